// Browser test of the dashboard: Playwright (playwright-core) drives Debian's headless Chromium
// against a running aggregatord that dashboard_test.sh started and filled with pings.
//
// Environment: DASHBOARD_URL (http://127.0.0.1:PORT/), READER_TOKEN, SCREENSHOT (output PNG),
// PROFILE_DIR (a fresh, empty Chromium user-data dir), SPIKE_ORG (the organization with an alert).
// Prints one line per check and exits non-zero on the first failure.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const url = process.env.DASHBOARD_URL;
const token = process.env.READER_TOKEN;
const screenshot = process.env.SCREENSHOT;
const profileDir = process.env.PROFILE_DIR;
const spikeOrg = process.env.SPIKE_ORG || 'Umbra Security';
assert.ok(url && token && screenshot && profileDir, 'DASHBOARD_URL, READER_TOKEN, SCREENSHOT, PROFILE_DIR');

const problems = [];
const ok = (what) => console.log(`ok: ${what}`);

const context = await chromium.launchPersistentContext(profileDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1366, height: 900 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30000);
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (resp) => { if (resp.status() >= 400) problems.push(`HTTP ${resp.status()}: ${resp.url()}`); });

  await page.goto(url, { waitUntil: 'load' });
  await page.locator('#login-form').waitFor({ state: 'visible' });
  ok('sign-in form shown without a token');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');

  // Organizations: the table lists all 50 and the chart draws the selected one.
  await page.locator('#orgs tbody tr').nth(49).waitFor();
  const rows = await page.locator('#orgs tbody tr').count();
  assert.equal(rows, 50, 'organization rows');
  ok(`organization table lists ${rows} organizations`);
  await page.locator('#org-chart .uplot canvas').first().waitFor({ state: 'visible' });
  const title = await page.textContent('#org-title');
  assert.equal(title, spikeOrg, 'the organization with an active alert is selected first');
  const legend = await page.locator('#org-chart .u-legend').innerText();
  assert.match(legend, /Violation rate/);
  assert.match(legend, /Pings/);
  ok(`chart shows ${title} with its rate, 95% band and pings`);

  // Alerts: listed, and marked on the chart.
  const alert = page.locator('#alerts li.alert', { hasText: spikeOrg }).first();
  await alert.waitFor({ state: 'visible' });
  ok(`alert listed: ${(await alert.innerText()).replace(/\s+/g, ' ')}`);
  const alertMarker = page.locator('#org-chart .alert-marker').first();
  await alertMarker.waitFor({ state: 'visible' });
  ok('alert marker visible on the chart');

  // Rollout events: a marker with a tooltip.
  const eventMarker = page.locator('#org-chart .event-marker').first();
  await eventMarker.waitFor({ state: 'visible' });
  await eventMarker.hover();
  await page.locator('#tooltip').waitFor({ state: 'visible' });
  const tip = await page.textContent('#tooltip');
  assert.match(tip, /\d{4}-\d{2}-\d{2}/);
  ok(`event marker with tooltip: ${tip.replace(/\s+/g, ' ')}`);

  // Promotion advisor: a verdict with its reason for each pinset.
  const verdict = page.locator('#advisor li[data-verdict]').first();
  await verdict.waitFor({ state: 'visible' });
  const verdictText = await verdict.innerText();
  assert.match(verdictText, /Safe to enforce|Not yet|Not enough data|Already enforced/);
  ok(`advisor verdict: ${verdictText.replace(/\s+/g, ' ')}`);

  // Privacy panel: whole-ping epsilons.
  const eps1 = await page.textContent('[data-testid=eps1]');
  const epsInf = await page.textContent('[data-testid=epsinf]');
  assert.ok(Number(eps1) > 0 && Number(epsInf) > 0, `epsilons ${eps1} ${epsInf}`);
  ok(`privacy panel: eps1 = ${eps1}, eps_inf = ${epsInf}`);

  // Drill-down: another organization, its pinsets and the event that concerns it.
  await page.locator('#orgs tbody tr', { hasText: 'Cedar Cloud' }).click();
  await page.waitForFunction(() => document.getElementById('org-title').textContent === 'Cedar Cloud');
  await page.locator('#pinsets tbody tr', { hasText: 'cedar-cloud' }).waitFor();
  const cedarEvents = await page.locator('#org-chart .event-marker').count();
  assert.ok(cedarEvents >= 2, `Cedar Cloud shows its pinset change and the global note (${cedarEvents})`);
  ok(`drill-down to Cedar Cloud: pinset table and ${cedarEvents} event markers`);

  // A year of daily points for every organization (18,250 points, ~5 MB of JSON whatever the
  // data's age) loads quickly. Generous bound for a loaded CI machine; typically ~1 s.
  const yearStart = Date.now();
  const yearFrom = new Date(Date.now() - 364 * 86400e3).toISOString().slice(0, 10);
  await page.selectOption('#range', '365');
  await page.waitForFunction((from) => document.getElementById('status').textContent.includes(from), yearFrom);
  const yearMs = Date.now() - yearStart;
  assert.ok(yearMs < 8000, `a year for 50 organizations took ${yearMs} ms`);
  ok(`one-year range for 50 organizations loaded in ${yearMs} ms`);
  await page.selectOption('#range', '90');
  await page.waitForFunction((from) => !document.getElementById('status').textContent.includes(from), yearFrom);

  // Back to the alerting organization for the screenshot.
  await alert.click();
  await page.waitForFunction((org) => document.getElementById('org-title').textContent === org, spikeOrg);
  await page.locator('#advisor li[data-verdict]').first().waitFor();
  assert.match(await page.textContent('#privacy'), new RegExp(`${spikeOrg} \\d`),
    'the privacy panel projects the selected organization');
  await page.locator('#orgs-panel .table-scroll').evaluate((el) => { el.scrollTop = 0; });
  await page.waitForTimeout(300);
  await page.screenshot({ path: screenshot, fullPage: true });
  ok(`screenshot saved to ${screenshot}`);

  assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
  ok('no console errors, page errors or failed requests');
} finally {
  await context.close();
}
