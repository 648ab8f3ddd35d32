#include "client/sim/report.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "privacy/json_writer.h"

namespace pinning::client::sim {

using ::privacy::JsonQuote;

std::string JsonNumber(double x) {
  if (std::isnan(x)) return "null";
  if (std::isinf(x)) return x > 0 ? "\"inf\"" : "\"-inf\"";
  return absl::StrFormat("%.10g", x);
}

namespace {

std::string Rate(double x) { return absl::StrFormat("%.4f", x); }

// DayBounds returns the first and last day of the cells ("" when there are none).
std::pair<std::string, std::string> DayBounds(const SimReport& report) {
  if (report.cells.empty()) return {"", ""};
  std::string first = report.cells.front().day, last = first;
  for (const SimCell& c : report.cells) {
    first = std::min(first, c.day);
    last = std::max(last, c.day);
  }
  return {first, last};
}

}  // namespace

void PrintTable(const SimReport& report, std::ostream& out) {
  out << absl::StrFormat(
      "pinsim: %d browsers, days %s, params version %u (whole-ping epsilon: one ping %.3f, "
      "unlimited pings %.3f)\n\n",
      report.browsers, absl::StrCat(DayBounds(report).first, "..", DayBounds(report).second),
      report.params_version, report.epsilon_one, report.epsilon_inf);
  out << absl::StrFormat("%-14s %-10s %-8s %8s %8s %9s %9s %-19s %7s %s\n", "organization", "day",
                         "product", "checked", "violated", "true rate", "estimate", "95% interval",
                         "pings", "covers");
  for (const SimCell& c : report.cells) {
    std::string estimate = "-", interval = c.estimate.insufficient_reason();
    if (c.estimate.sufficient()) {
      estimate = Rate(c.estimate.rate());
      interval =
          absl::StrCat("[", Rate(c.estimate.ci_low()), ", ", Rate(c.estimate.ci_high()), "]");
    }
    if (interval.empty()) interval = "no estimate";
    out << absl::StrFormat("%-14s %-10s %-8s %8d %8d %9s %9s %-19s %7d %s\n", c.organization, c.day,
                           c.product.empty() ? "all" : c.product, c.checked, c.violated,
                           Rate(c.true_rate), estimate, interval, c.estimate.pings(),
                           c.covered ? "yes" : "NO");
  }
  const CoverageCheck& cov = report.coverage;
  out << "\n"
      << absl::StrFormat(
             "coverage: %d of %d intervals cover the true rate (%.1f%%; nominal 95%%); plausible "
             "at 95%%: at least %d (binomial 0.1%% quantile, design effect %.2f)%s\n",
             cov.covered, cov.cells, cov.cells > 0 ? 100.0 * cov.covered / cov.cells : 0.0,
             cov.min_plausible_covered, cov.design_effect,
             cov.too_few_covered ? "  => IMPLAUSIBLE" : "  => ok");
  if (report.insufficient > 0) {
    out << absl::StrFormat(
        "  %d cells had too little data for an estimate (counted as not covering)\n",
        report.insufficient);
  }
  out << absl::StrFormat(
      "uploads: %d pings encoded, %d acknowledged, %d duplicates, %d dropped as invalid, %d "
      "dropped (queue full), %d failed attempts retried, %d retry-after hints; parameters "
      "refreshed %d times (%d Params.Get calls reached the aggregator)\n",
      report.pings_encoded, report.upload.acknowledged, report.upload.duplicates,
      report.upload.dropped_invalid, report.dropped_overflow, report.upload.failed_attempts,
      report.upload.retry_hints, report.upload.params_fetches, report.params_calls);
  out << absl::StrFormat(
      "privacy: largest lifetime epsilon of a browser %.3f; %d days not sent for the budget\n",
      report.lifetime_epsilon_max, report.days_over_budget);
  for (const std::string& event : report.events) out << "event: " << event << "\n";
  for (const std::string& note : report.notes) out << "note: " << note << "\n";
  out << absl::StrFormat("memory: about %.0f bytes resident per simulated browser",
                         report.bytes_per_browser);
  if (report.store_bytes_per_browser > 0) {
    out << absl::StrFormat("; %.0f bytes of client store on disk per browser",
                           report.store_bytes_per_browser);
  }
  out << "; took " << absl::FormatDuration(absl::Trunc(report.elapsed, absl::Milliseconds(100)))
      << "\n";
}

void PrintJson(const SimReport& report, std::ostream& out) {
  const CoverageCheck& cov = report.coverage;
  const auto [first, last] = DayBounds(report);
  std::vector<std::string> cells;
  for (const SimCell& c : report.cells) {
    cells.push_back(absl::StrCat(
        "{\"organization\":", JsonQuote(c.organization), ",\"day\":", JsonQuote(c.day),
        ",\"product\":", JsonQuote(c.product), ",\"checked\":", c.checked,
        ",\"violated\":", c.violated, ",\"true_rate\":", JsonNumber(c.true_rate),
        ",\"sufficient\":", c.estimate.sufficient() ? "true" : "false", ",\"estimate\":",
        JsonNumber(c.estimate.rate()), ",\"std_error\":", JsonNumber(c.estimate.std_error()),
        ",\"ci_low\":", JsonNumber(c.estimate.ci_low()),
        ",\"ci_high\":", JsonNumber(c.estimate.ci_high()), ",\"pings\":", c.estimate.pings(),
        ",\"covered\":", c.covered ? "true" : "false", "}"));
  }
  std::vector<std::string> events, notes;
  for (const std::string& e : report.events) events.push_back(JsonQuote(e));
  for (const std::string& n : report.notes) notes.push_back(JsonQuote(n));
  int days = 0;
  if (!report.cells.empty()) {
    std::vector<std::string> distinct;
    for (const SimCell& c : report.cells) {
      if (std::find(distinct.begin(), distinct.end(), c.day) == distinct.end()) {
        distinct.push_back(c.day);
      }
    }
    days = static_cast<int>(distinct.size());
  }
  out << absl::StrCat(
             "{\"browsers\":", report.browsers, ",\"days\":", days,
             ",\"first_day\":", JsonQuote(first), ",\"last_day\":", JsonQuote(last),
             ",\"params_version\":", report.params_version,
             ",\"catalog_version\":", JsonQuote(report.catalog_version),
             ",\"rotated_params_version\":", report.rotated_params_version,
             ",\"rotated_catalog_version\":", JsonQuote(report.rotated_catalog_version),
             ",\"epsilon_one\":", JsonNumber(report.epsilon_one),
             ",\"epsilon_inf\":", JsonNumber(report.epsilon_inf), ",\"cells\":[",
             absl::StrJoin(cells, ","), "]", ",\"coverage\":{\"cells\":", cov.cells,
             ",\"covered\":", cov.covered, ",\"missed\":", cov.missed,
             ",\"max_plausible_missed\":", cov.max_plausible_missed,
             ",\"min_plausible_covered\":", cov.min_plausible_covered,
             ",\"design_effect\":", JsonNumber(cov.design_effect),
             ",\"plausible\":", cov.too_few_covered ? "false" : "true", "}",
             ",\"insufficient\":", report.insufficient,
             ",\"uploads\":{\"pings_encoded\":", report.pings_encoded,
             ",\"acknowledged\":", report.upload.acknowledged,
             ",\"duplicates\":", report.upload.duplicates,
             ",\"dropped_invalid\":", report.upload.dropped_invalid,
             ",\"dropped_overflow\":", report.dropped_overflow,
             ",\"failed_attempts\":", report.upload.failed_attempts,
             ",\"retry_hints\":", report.upload.retry_hints,
             ",\"params_fetches\":", report.upload.params_fetches,
             ",\"params_refusals\":", report.upload.params_refusals,
             ",\"days_over_budget\":", report.days_over_budget, "}",
             ",\"lifetime_epsilon_max\":", JsonNumber(report.lifetime_epsilon_max), ",\"events\":[",
             absl::StrJoin(events, ","), "]", ",\"notes\":[", absl::StrJoin(notes, ","), "]",
             ",\"bytes_per_browser\":", JsonNumber(report.bytes_per_browser),
             ",\"store_bytes_per_browser\":", JsonNumber(report.store_bytes_per_browser),
             ",\"params_calls\":", report.params_calls,
             ",\"elapsed_seconds\":", JsonNumber(absl::ToDoubleSeconds(report.elapsed)), "}")
      << "\n";
}

}  // namespace pinning::client::sim
