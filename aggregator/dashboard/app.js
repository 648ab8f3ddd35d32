// Dashboard of the pinning-violation telemetry aggregator.
//
// Plain JavaScript on top of uPlot (no bundler). Everything comes from the aggregator's JSON API
// (/api/v1/..., see aggregator/http/http_gateway.h) with the bearer token the user enters; the
// token stays in this tab's sessionStorage. JSON follows protobuf's mapping: snake_case names,
// 64-bit integers as strings.
'use strict';

(() => {
  const DAY_SECONDS = 86400;
  const TOKEN_KEY = 'pinning-dashboard-token';
  const ADVISOR_KEY = 'pinning-dashboard-advisor';
  const COLORS = ['#1f6fb4', '#d9622b', '#2a9d5b', '#8e44ad', '#b8860b', '#c0392b', '#16a085', '#7f8c8d'];
  const EVENT_LABELS = {
    EVENT_KIND_PINSET_CHANGE: 'Pinset change',
    EVENT_KIND_PROMOTE_TO_ENFORCE: 'Promoted to enforce',
    EVENT_KIND_DEMOTE_TO_TEST: 'Demoted to test',
    EVENT_KIND_PARAMS_CHANGE: 'Parameters change',
    EVENT_KIND_CATALOG_CHANGE: 'Catalog change',
    EVENT_KIND_NOTE: 'Note',
  };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    catalog: null,
    orgs: new Map(),       // name -> {name, pinsets, mode, series, week}
    events: [],
    alerts: [],
    privacy: null,
    selected: '',
    from: '',
    to: '',
    charts: [],
    loadId: 0,
  };

  const $ = (id) => document.getElementById(id);

  // ---- Formatting ----
  const pct = (x) => (x == null || !isFinite(x) ? '—' : (100 * x).toFixed(x < 0.001 ? 3 : 2) + '%');
  const pctAxis = (x) => (100 * x).toFixed(x !== 0 && Math.abs(x) < 0.01 ? 2 : 1) + '%';
  const count = (x) => (x == null ? '—' : Math.round(x).toLocaleString('en-US'));
  const compact = (x) => (x >= 1e6 ? (x / 1e6).toFixed(1) + 'M' : x >= 1e3 ? (x / 1e3).toFixed(0) + 'k' : String(Math.round(x)));
  const dayToTs = (day) => Date.parse(day + 'T00:00:00Z') / 1000;
  const tsToDay = (ts) => new Date(ts * 1000).toISOString().slice(0, 10);
  const todayUtc = () => new Date().toISOString().slice(0, 10);
  const addDays = (day, n) => tsToDay(dayToTs(day) + n * DAY_SECONDS);
  const modeName = (m) => (m === 'PIN_MODE_ENFORCE' ? 'enforce' : m === 'PIN_MODE_TEST' ? 'test' : 'unknown');

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  }

  function setStatus(text, isError) {
    const s = $('status');
    s.textContent = text;
    s.classList.toggle('error', !!isError);
  }

  // ---- API ----
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, params) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else if (v !== '' && v != null) url.searchParams.set(k, String(v));
    }
    const resp = await fetch(url, { headers: { Authorization: 'Bearer ' + state.token } });
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = null;
    }
    if (!resp.ok) {
      const err = (body && body.error) || {};
      throw new ApiError(resp.status, err.code || String(resp.status), err.message || resp.statusText);
    }
    return body;
  }

  function filters() {
    return { product: $('product').value, channel: $('channel').value };
  }

  // Columns of one series: x (seconds), rate/low/high (null when insufficient), pings.
  function columns(series, from, to) {
    const byDay = new Map();
    for (const p of series ? series.points : []) byDay.set(p.day, p);
    const x = [], rate = [], low = [], high = [], pings = [], points = [];
    for (let day = from; day <= to; day = addDays(day, 1)) {
      const p = byDay.get(day);
      x.push(dayToTs(day));
      points.push(p || null);
      const ok = p && p.sufficient;
      rate.push(ok ? p.rate : null);
      low.push(ok ? p.ci_low : null);
      high.push(ok ? p.ci_high : null);
      pings.push(p ? Number(p.pings) : 0);
    }
    return { x, rate, low, high, pings, points };
  }

  // ---- Loading ----
  async function loadAll() {
    const id = ++state.loadId;
    const days = Number($('range').value);
    state.to = todayUtc();
    state.from = addDays(state.to, -(days - 1));
    const weekFrom = addDays(state.to, -6);
    const f = filters();
    setStatus('Loading…');
    try {
      const [catalog, rates, week, events, alerts, privacy] = await Promise.all([
        api('/api/v1/catalog'),
        api('/api/v1/rates', { from: state.from, to: state.to, group_by: 'organization', per_day: true, ...f }),
        api('/api/v1/rates', { from: weekFrom, to: state.to, group_by: 'organization', per_day: false, ...f }),
        api('/api/v1/events', { from: state.from, to: state.to }),
        api('/api/v1/alerts', { from: state.from, to: state.to }),
        api('/api/v1/privacy').catch((e) => ({ error: e.message })),
      ]);
      if (id !== state.loadId) return;
      state.catalog = catalog;
      state.events = events.events || [];
      state.alerts = (alerts.alerts || []).slice().sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0));
      state.privacy = privacy;
      buildOrgs(catalog, rates, week);
      showMain(true);
      renderOrgTable();
      renderAlerts();
      if (!state.selected || !state.orgs.has(state.selected)) state.selected = defaultOrg();
      await selectOrg(state.selected, id);
      renderPrivacy();
      setStatus(`Updated ${new Date().toISOString().slice(11, 16)} UTC · ${state.from} to ${state.to}`);
    } catch (e) {
      if (id !== state.loadId) return;
      if (e.status === 401) {
        showLogin(e.message);
        return;
      }
      setStatus('Error: ' + e.message, true);
    }
  }

  function buildOrgs(catalog, rates, week) {
    const orgs = new Map();
    for (const p of catalog.pinsets || []) {
      const name = p.organization || '(no organization)';
      if (!orgs.has(name)) orgs.set(name, { name, pinsets: [], series: null, week: null });
      orgs.get(name).pinsets.push(p);
    }
    for (const s of rates.series || []) {
      if (!orgs.has(s.key)) orgs.set(s.key, { name: s.key, pinsets: [], series: null, week: null });
      orgs.get(s.key).series = s;
    }
    for (const s of week.series || []) if (orgs.has(s.key)) orgs.get(s.key).week = s.points[0] || null;
    for (const org of orgs.values()) {
      const modes = new Set(org.pinsets.map((p) => modeName(p.mode)));
      org.mode = modes.size === 1 ? [...modes][0] : modes.size === 0 ? 'unknown' : 'mixed';
      org.cols = columns(org.series, state.from, state.to);
      org.activeAlerts = state.alerts.filter((a) => a.organization === org.name && a.active).length;
    }
    state.orgs = orgs;
  }

  function defaultOrg() {
    const hash = new URLSearchParams(location.hash.slice(1)).get('org');
    if (hash && state.orgs.has(hash)) return hash;
    const sorted = sortedOrgs();
    return sorted.length ? sorted[0].name : '';
  }

  // Organizations with active alerts first, then by the 7-day rate, highest first.
  function sortedOrgs() {
    return [...state.orgs.values()].sort((a, b) => {
      if (a.activeAlerts !== b.activeAlerts) return b.activeAlerts - a.activeAlerts;
      const ra = a.week && a.week.sufficient ? a.week.rate : -1;
      const rb = b.week && b.week.sufficient ? b.week.rate : -1;
      return rb - ra || a.name.localeCompare(b.name);
    });
  }

  // ---- Organization table ----
  function renderOrgTable() {
    const tbody = $('orgs').tBodies[0];
    tbody.textContent = '';
    const needle = $('org-filter').value.trim().toLowerCase();
    const orgs = sortedOrgs().filter((o) => !needle || o.name.toLowerCase().includes(needle));
    $('org-count').textContent = `(${orgs.length})`;
    for (const org of orgs) {
      const w = org.week;
      const weekCell = w && w.sufficient
        ? el('td', { title: `95% interval ${pct(w.ci_low)} to ${pct(w.ci_high)}; ${count(Number(w.pings))} pings` },
            pct(w.rate), el('span', { class: 'ci' }, ` ±${pct((w.ci_high - w.ci_low) / 2)}`))
        : el('td', { class: 'muted', title: (w && w.insufficient_reason) || 'no reports' }, 'no data');
      const spark = el('canvas', { class: 'spark', width: '96', height: '24', 'aria-hidden': 'true' });
      const row = el('tr', {
        class: 'org-row' + (org.name === state.selected ? ' selected' : ''),
        tabindex: '0',
        dataset: { org: org.name },
        onclick: () => selectOrg(org.name),
        onkeydown: (e) => { if (e.key === 'Enter') selectOrg(org.name); },
      },
      el('td', { class: 'org-name' }, org.name,
        org.activeAlerts ? el('span', { class: 'alert-badge', title: 'active alerts' }, String(org.activeAlerts)) : null),
      el('td', {}, el('span', { class: 'badge mode-' + org.mode }, org.mode)),
      weekCell,
      el('td', {}, spark));
      tbody.append(row);
      drawSparkline(spark, org.cols);
    }
  }

  function drawSparkline(canvas, cols) {
    const ratio = window.devicePixelRatio || 1;
    const w = 96, h = 24;
    canvas.width = w * ratio;
    canvas.height = h * ratio;
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    const ctx = canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    let max = 0;
    for (const v of cols.high) if (v != null && v > max) max = v;
    if (max <= 0) max = 0.01;
    const n = cols.rate.length;
    const px = (i) => (n > 1 ? (i / (n - 1)) * (w - 2) + 1 : w / 2);
    const py = (v) => h - 2 - (Math.min(v, max) / max) * (h - 4);
    ctx.fillStyle = 'rgba(31,111,180,0.18)';
    ctx.beginPath();
    let open = false;
    for (let i = 0; i < n; i++) {
      if (cols.high[i] == null) continue;
      ctx.fillRect(px(i) - 0.5, py(cols.high[i]), 1.5, Math.max(1, py(cols.low[i]) - py(cols.high[i])));
    }
    ctx.strokeStyle = '#1f6fb4';
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const v = cols.rate[i];
      if (v == null) { open = false; continue; }
      if (open) ctx.lineTo(px(i), py(v)); else ctx.moveTo(px(i), py(v));
      open = true;
    }
    ctx.stroke();
  }

  // ---- Organization detail ----
  async function selectOrg(name, loadId) {
    state.selected = name;
    history.replaceState(null, '', '#org=' + encodeURIComponent(name));
    for (const row of $('orgs').tBodies[0].rows) {
      const selected = row.dataset.org === name;
      row.classList.toggle('selected', selected);
      if (selected) row.scrollIntoView({ block: 'nearest' });
    }
    const org = state.orgs.get(name);
    $('org-title').textContent = name || '—';
    if (!org) return;
    const mode = $('org-mode');
    mode.textContent = org.mode;
    mode.className = 'badge mode-' + org.mode;
    const totalPings = org.cols.pings.reduce((a, b) => a + b, 0);
    $('org-summary').textContent = `${org.pinsets.length} pinset${org.pinsets.length === 1 ? '' : 's'} · ${count(totalPings)} pings in range`;
    const orgEvents = state.events.filter((e) => !e.organization || e.organization === name);
    const orgAlerts = state.alerts.filter((a) => a.organization === name);
    drawOrgChart(org, orgEvents, orgAlerts);
    renderPrivacy();  // its projected error names the selected organization

    const names = org.pinsets.map((p) => p.name);
    if (!names.length) return;
    const f = filters();
    try {
      const [daily, week] = await Promise.all([
        api('/api/v1/rates', { from: state.from, to: state.to, group_by: 'pinset', key: names, per_day: true, ...f }),
        api('/api/v1/rates', { from: addDays(state.to, -6), to: state.to, group_by: 'pinset', key: names, per_day: false, ...f }),
      ]);
      if (loadId !== undefined && loadId !== state.loadId) return;
      if (state.selected !== name) return;
      const bySeries = new Map((daily.series || []).map((s) => [s.key, s]));
      const byWeek = new Map((week.series || []).map((s) => [s.key, s.points[0]]));
      const pinsets = org.pinsets.map((p) => ({
        pinset: p, cols: columns(bySeries.get(p.name), state.from, state.to), week: byWeek.get(p.name) || null,
      }));
      drawPinsetChart(pinsets, orgEvents);
      renderPinsetTable(pinsets);
      renderAdvisor(org, pinsets);
    } catch (e) {
      if (e.status === 401) showLogin(e.message); else setStatus('Error: ' + e.message, true);
    }
  }

  function destroyCharts(containerId) {
    state.charts = state.charts.filter((c) => {
      if (c.root.parentNode === $(containerId)) { c.destroy(); return false; }
      return true;
    });
    $(containerId).textContent = '';
  }

  function chartWidth(containerId) {
    return Math.max(320, $(containerId).clientWidth - 4);
  }

  // markersPlugin draws rollout events (dashed vertical lines with a hoverable ▼ marker) and
  // alerts (red dots at the alert's rate) over a chart.
  function markersPlugin(events, alerts) {
    let layer;
    const place = (u) => {
      layer.textContent = '';
      const width = u.over.clientWidth;
      for (const ev of events) {
        const x = u.valToPos(dayToTs(ev.day), 'x');
        if (!(x >= 0 && x <= width)) continue;
        const label = `${ev.day} · ${EVENT_LABELS[ev.kind] || ev.kind}` +
          (ev.organization ? ` · ${ev.organization}` : '') + (ev.pinset ? ` · ${ev.pinset}` : '') +
          (ev.description ? `\n${ev.description}` : '');
        layer.append(el('div', {
          class: 'event-marker', style: `left:${x}px`, tabindex: '0', role: 'img',
          'aria-label': label, dataset: { tip: label, testid: 'event-marker' },
        }));
      }
      for (const al of alerts) {
        const x = u.valToPos(dayToTs(al.day), 'x');
        const y = u.valToPos(al.rate, 'y');
        if (!(x >= 0 && x <= width)) continue;
        const label = `Alert ${al.day}: ${al.message}`;
        layer.append(el('div', {
          class: 'alert-marker' + (al.active ? '' : ' inactive'), style: `left:${x}px;top:${Math.max(0, y)}px`,
          tabindex: '0', role: 'img', 'aria-label': label, dataset: { tip: label, testid: 'alert-marker' },
        }));
      }
    };
    return {
      hooks: {
        init: (u) => {
          layer = el('div', { class: 'markers' });
          u.over.append(layer);
        },
        draw: (u) => {
          place(u);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = 'rgba(111,66,193,0.8)';
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.lineWidth = devicePixelRatio;
          for (const ev of events) {
            const x = Math.round(u.valToPos(dayToTs(ev.day), 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        },
      },
    };
  }

  function baseOpts(width, height) {
    return {
      width,
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      scales: { x: { time: true } },
    };
  }

  function drawOrgChart(org, events, alerts) {
    destroyCharts('org-chart');
    const c = org.cols;
    const maxHigh = Math.max(0.001, ...c.high.filter((v) => v != null), ...alerts.map((a) => a.rate));
    const opts = {
      ...baseOpts(chartWidth('org-chart'), 300),
      scales: {
        x: { time: true },
        y: { range: () => [0, maxHigh * 1.08] },
        pings: { range: (u, min, max) => [0, Math.max(1, max) * 3] },
      },
      series: [
        { value: (u, v) => (v == null ? '—' : tsToDay(v)) },
        { label: 'Pings', scale: 'pings', stroke: '#c3cad2', fill: 'rgba(170,180,191,0.28)', width: 0,
          paths: uPlot.paths.bars({ size: [0.75, 12] }), points: { show: false }, value: (u, v) => count(v) },
        { label: '95% high', stroke: 'rgba(31,111,180,0.35)', width: 0.5, points: { show: false }, value: (u, v) => pct(v) },
        { label: 'Violation rate', stroke: '#1f6fb4', width: 2, points: { show: false }, value: (u, v) => pct(v) },
        { label: '95% low', stroke: 'rgba(31,111,180,0.35)', width: 0.5, points: { show: false }, value: (u, v) => pct(v) },
      ],
      bands: [{ series: [2, 4], fill: 'rgba(31,111,180,0.18)' }],
      axes: [
        {},
        { label: 'violation rate', values: (u, vals) => vals.map(pctAxis), size: 60 },
        { side: 1, scale: 'pings', label: 'pings', grid: { show: false }, values: (u, vals) => vals.map(compact), size: 50 },
      ],
      plugins: [markersPlugin(events, alerts)],
    };
    state.charts.push(new uPlot(opts, [c.x, c.pings, c.high, c.rate, c.low], $('org-chart')));
  }

  function drawPinsetChart(pinsets, events) {
    destroyCharts('pinset-chart');
    const x = pinsets[0].cols.x;
    const data = [x];
    const series = [{ value: (u, v) => (v == null ? '—' : tsToDay(v)) }];
    pinsets.forEach((p, i) => {
      data.push(p.cols.rate);
      series.push({ label: `${p.pinset.name} (${modeName(p.pinset.mode)})`, stroke: COLORS[i % COLORS.length],
        width: 1.5, points: { show: false }, value: (u, v) => pct(v) });
    });
    const opts = {
      ...baseOpts(chartWidth('pinset-chart'), 200),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(0.001, max) * 1.1] } },
      series,
      axes: [{}, { label: 'violation rate', values: (u, vals) => vals.map(pctAxis), size: 60 }],
      plugins: [markersPlugin(events, [])],
    };
    state.charts.push(new uPlot(opts, data, $('pinset-chart')));
  }

  function renderPinsetTable(pinsets) {
    const tbody = $('pinsets').tBodies[0];
    tbody.textContent = '';
    for (const p of pinsets) {
      const w = p.week;
      const ok = w && w.sufficient;
      tbody.append(el('tr', {},
        el('td', {}, p.pinset.name),
        el('td', {}, el('span', { class: 'badge mode-' + modeName(p.pinset.mode) }, modeName(p.pinset.mode))),
        el('td', {}, ok ? pct(w.rate) : 'no data'),
        el('td', {}, ok ? `${pct(w.ci_low)} to ${pct(w.ci_high)}` : (w && w.insufficient_reason) || 'no reports'),
        el('td', {}, w ? count(Number(w.pings)) : '0')));
    }
  }

  // ---- Promotion advisor ----
  // A test-mode pinset is safe to enforce when, on each of the last N complete days (ending
  // yesterday, UTC), its violation rate has a sufficient estimate whose 95% upper bound is below
  // the threshold.
  function advise(pinset, cols, thresholdRate, days) {
    const end = addDays(state.to, -1);
    const start = addDays(end, -(days - 1));
    if (modeName(pinset.mode) === 'enforce') {
      return { verdict: 'enforced', text: 'Already enforced.' };
    }
    if (start < state.from) {
      return { verdict: 'unknown', text: `The loaded range is shorter than ${days} days; widen the range.` };
    }
    const missing = [], above = [];
    let maxHigh = -1, maxDay = '';
    for (let i = 0; i < cols.x.length; i++) {
      const day = tsToDay(cols.x[i]);
      if (day < start || day > end) continue;
      const hi = cols.high[i];
      if (hi == null) { missing.push(day); continue; }
      if (hi > maxHigh) { maxHigh = hi; maxDay = day; }
      if (hi >= thresholdRate) above.push(day);
    }
    if (above.length) {
      return { verdict: 'no', text: `Not yet: the upper bound reached ${pct(maxHigh)} on ${maxDay} ` +
        `(threshold ${pct(thresholdRate)}); above it on ${above.length} of the last ${days} days.` };
    }
    if (missing.length) {
      return { verdict: 'unknown', text: `Not enough data: no usable estimate on ${missing.length} of the last ` +
        `${days} days (first: ${missing[0]}). More pings are needed before deciding.` };
    }
    return { verdict: 'yes', text: `Safe to enforce: the upper bound stayed below ${pct(thresholdRate)} on all ` +
      `${days} days from ${start} to ${end} (highest ${pct(maxHigh)} on ${maxDay}).` };
  }

  let lastAdvisor = null;
  function renderAdvisor(org, pinsets) {
    lastAdvisor = { org, pinsets };
    const threshold = Number($('advisor-threshold').value) / 100;
    const days = Math.max(1, Math.round(Number($('advisor-days').value)));
    const box = $('advisor');
    box.textContent = '';
    if (!(threshold > 0) || !(days >= 1)) {
      box.append(el('p', { class: 'error' }, 'Enter a threshold above 0% and at least one day.'));
      return;
    }
    const results = pinsets.map((p) => ({ p, r: advise(p.pinset, p.cols, threshold, days) }));
    const testing = results.filter((x) => x.r.verdict !== 'enforced');
    const ready = testing.filter((x) => x.r.verdict === 'yes').length;
    const summary = testing.length === 0
      ? `${org.name}: every pinset is already enforced.`
      : `${org.name}: ${ready} of ${testing.length} test-mode pinset${testing.length === 1 ? '' : 's'} safe to enforce.`;
    box.append(el('p', { class: 'advisor-summary' }, summary));
    const list = el('ul', { class: 'advisor-list' });
    for (const { p, r } of results) {
      list.append(el('li', { class: 'verdict-' + r.verdict, dataset: { verdict: r.verdict } },
        el('strong', {}, p.pinset.name + ': '), r.text));
    }
    box.append(list);
  }

  // ---- Alerts ----
  function renderAlerts() {
    const list = $('alerts');
    list.textContent = '';
    $('alert-count').textContent = `(${state.alerts.length})`;
    if (!state.alerts.length) {
      list.append(el('li', { class: 'muted' }, 'No alerts in this range.'));
      return;
    }
    for (const a of state.alerts) {
      list.append(el('li', {
        class: 'alert' + (a.active ? '' : ' inactive'), tabindex: '0', dataset: { org: a.organization },
        onclick: () => selectOrg(a.organization),
        onkeydown: (e) => { if (e.key === 'Enter') selectOrg(a.organization); },
      },
      el('div', { class: 'alert-head' }, el('strong', {}, a.organization), ` · ${a.day}`, a.active ? '' : ' (no longer firing)'),
      el('div', {}, `${pct(a.rate)} (${pct(a.low)} to ${pct(a.high)}) vs baseline ${pct(a.baseline_rate)} ` +
        `(${pct(a.baseline_low)} to ${pct(a.baseline_high)}), ${count(Number(a.pings))} pings`)));
    }
  }

  // ---- Privacy ----
  function renderPrivacy() {
    const box = $('privacy');
    box.textContent = '';
    const pv = state.privacy;
    if (!pv || pv.error) {
      box.append(el('p', { class: 'muted' }, (pv && pv.error) || 'No parameters published yet.'));
      return;
    }
    const cur = pv.current;
    const params = cur.params || {};
    const k = pv.catalog_pinsets;
    const s = Math.min(params.pinsets_per_ping || k, k);
    const fmtEps = (e) => (typeof e === 'number' ? e.toFixed(3) : String(e));  // "Infinity" arrives as text
    const dl = el('dl', { class: 'facts' },
      el('dt', {}, 'Parameters'), el('dd', {}, `version ${cur.version}: f = ${params.f}, p = ${params.p}, q = ${params.q}`),
      el('dt', {}, 'Reported'), el('dd', {}, `${s} of ${k} pinsets per ping, ${params.bits_per_pinset || 2} bits each`),
      el('dt', {}, 'ε₁ (one ping)'), el('dd', { 'data-testid': 'eps1' }, fmtEps(cur.epsilon_one)),
      el('dt', {}, 'ε∞ (unlimited pings)'), el('dd', { 'data-testid': 'epsinf' }, fmtEps(cur.epsilon_inf)),
      el('dt', {}, 'Pings today'), el('dd', {}, `${count(Number(pv.pings_today))} (${pv.today}, so far)`),
      el('dt', {}, 'Average per day'), el('dd', {}, count(pv.average_daily_pings)));
    box.append(dl);
    box.append(el('p', { class: 'note' }, 'Both epsilons are for the whole ping (every reported bit). ε∞ bounds what ' +
      'unlimited pings of an unchanged truth reveal; a client whose truth changes reveals one memoized ' +
      'permanent response per distinct truth.'));
    const projected = (pv.projected || []).slice().sort((a, b) => a.std_error - b.std_error);
    if (projected.length) {
      const sel = projected.find((p) => p.organization === state.selected);
      const median = projected[Math.floor(projected.length / 2)].std_error;
      const worst = projected[projected.length - 1];
      box.append(el('p', {}, 'Projected daily standard error at this volume: ' +
        (sel ? `${sel.organization} ${pct(sel.std_error)}; ` : '') +
        `median ${pct(median)}; largest ${pct(worst.std_error)} (${worst.organization}).`));
    }
  }

  // ---- Tooltips for markers ----
  function setupTooltips() {
    const tip = $('tooltip');
    const show = (target) => {
      const text = target.dataset.tip;
      if (!text) return;
      tip.textContent = text;
      tip.hidden = false;
      const r = target.getBoundingClientRect();
      const left = Math.min(window.innerWidth - tip.offsetWidth - 8, Math.max(8, r.left + r.width / 2 - tip.offsetWidth / 2));
      tip.style.left = left + window.scrollX + 'px';
      tip.style.top = r.top + window.scrollY - tip.offsetHeight - 8 + 'px';
    };
    const hide = () => { tip.hidden = true; };
    for (const type of ['mouseover', 'focusin']) {
      document.addEventListener(type, (e) => {
        const t = e.target.closest && e.target.closest('[data-tip]');
        if (t) show(t);
      });
    }
    for (const type of ['mouseout', 'focusout']) {
      document.addEventListener(type, (e) => {
        if (e.target.closest && e.target.closest('[data-tip]')) hide();
      });
    }
  }

  // ---- Sign-in ----
  function showMain(on) {
    $('main').hidden = !on;
    $('login').hidden = on;
    $('signout').hidden = !on;
  }

  function showLogin(message) {
    showMain(false);
    $('login-error').textContent = message && state.token ? message : '';
    setStatus('');
    $('token').focus();
  }

  function init() {
    setupTooltips();
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      state.token = $('token').value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $('token').value = '';
      loadAll();
    });
    $('signout').addEventListener('click', () => {
      state.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin('');
    });
    for (const id of ['range', 'product', 'channel']) $(id).addEventListener('change', loadAll);
    $('refresh').addEventListener('click', loadAll);
    $('org-filter').addEventListener('input', renderOrgTable);
    const saved = JSON.parse(localStorage.getItem(ADVISOR_KEY) || '{}');
    if (saved.threshold) $('advisor-threshold').value = saved.threshold;
    if (saved.days) $('advisor-days').value = saved.days;
    for (const id of ['advisor-threshold', 'advisor-days']) {
      $(id).addEventListener('input', () => {
        localStorage.setItem(ADVISOR_KEY, JSON.stringify({
          threshold: $('advisor-threshold').value, days: $('advisor-days').value }));
        if (lastAdvisor) renderAdvisor(lastAdvisor.org, lastAdvisor.pinsets);
      });
    }
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        for (const c of state.charts) {
          const parent = c.root.parentNode;
          if (parent) c.setSize({ width: Math.max(320, parent.clientWidth - 4), height: c.height });
        }
      }, 150);
    });
    // Fresh data every five minutes while the page is visible.
    setInterval(() => { if (!document.hidden && state.token && !$('main').hidden) loadAll(); }, 5 * 60 * 1000);
    if (state.token) loadAll(); else showLogin('');
  }

  init();
})();
