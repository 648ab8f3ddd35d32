// spike_detector.h: the spike rule that turns decoded violation rates into alerts.
//
// Rule "interval above baseline". For organization o and day d, with B = baseline_days:
//   today     = o's rate decoded for day d alone:       r_t with standard error s_t;
//   baseline  = o's rate decoded over days d-B .. d-1 pooled (one estimate from their summed
//               counts, DESIGN §4):                    r_b with standard error s_b.
// An alert fires when today's interval lies entirely above the baseline's:
//   r_t − z·s_t  >  r_b + z·s_b,
// and r_t − r_b >= min_increase, and both estimates are sufficient and rest on at least min_pings
// pings. z is the sensitivity: larger z, fewer alerts.
//
// False-alarm rate. If the true rate does not change, r_t − r_b is approximately normal with mean 0
// and variance s_t² + s_b² (independent days, delta-method errors; RAPPOR's estimates are sums of
// many independent reports). The rule fires when r_t − r_b > z·(s_t + s_b), so per organization and
// day
//   P(false alarm) = 1 − Φ(z·(1 + ρ)/sqrt(1 + ρ²)),  ρ = s_b / s_t,
// which is at most 1 − Φ(z) (ρ → 0) and, with equal daily volumes (ρ = 1/sqrt(B)), for the default
// z = 4 and B = 7 equals 1 − Φ(5.157) ≈ 1.3e-7: 0.002 expected false alarms per year for
// 50 organizations. Clients' memoized PRR noise correlates a client's reports across days, which
// correlates r_t with r_b positively and only lowers the rate further. FalseAlarmProbability()
// evaluates the formula.
//
//   SpikeRuleOptions rule;   // z = 4, baseline_days = 7
//   ASSIGN_OR_RETURN(std::vector<v1::Alert> alerts,
//                    DetectSpikes(rates_fn, first_day, last_day, rule));
//
// Thread safety: the functions are pure apart from calling `rates`.
#ifndef AGGREGATOR_ALERTS_SPIKE_DETECTOR_H_
#define AGGREGATOR_ALERTS_SPIKE_DETECTOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/alerts/alerts.pb.h"
#include "aggregator/storage/day.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

struct SpikeRuleOptions {
  // Interval half-width in standard errors, for both today's and the baseline's interval.
  double z = 4.0;
  // Days before the evaluated day that form the baseline.
  int baseline_days = 7;
  // Fewest pings today's point and the baseline must each rest on.
  int64_t min_pings = 100;
  // Smallest increase of the rate over the baseline that may alert (absolute, e.g. 0.01 = 1 point).
  double min_increase = 0.0;
};

// ValidateSpikeRule returns INVALID_ARGUMENT naming the option when z <= 0 or not finite,
// baseline_days < 1, min_pings < 0, or min_increase is negative or not finite.
[[nodiscard]] absl::Status ValidateSpikeRule(const SpikeRuleOptions& rule);

// RuleName returns e.g. "interval_above_baseline(z=4, baseline_days=7)".
std::string RuleName(const SpikeRuleOptions& rule);

// FalseAlarmProbability returns 1 − Φ(z·(1+ρ)/sqrt(1+ρ²)) for ρ = baseline_to_today_se_ratio >= 0
// (see the file comment).
double FalseAlarmProbability(double z, double baseline_to_today_se_ratio);

// EvaluateSpike applies the rule to one organization's points. `today` must carry its day.
// Returns the alert (active, without raised_at) when it fires, nullopt otherwise.
std::optional<v1::Alert> EvaluateSpike(absl::string_view organization, const v1::RatePoint& today,
                                       const v1::RatePoint& baseline, DayNumber baseline_from,
                                       DayNumber baseline_to, const SpikeRuleOptions& rule);

// RatesFn answers a RatesRequest, e.g. with Decoder::Rates.
using RatesFn = std::function<absl::StatusOr<v1::RatesResponse>(const v1::RatesRequest&)>;

// DetectSpikes evaluates every day of [first_day, last_day] for every organization (or only
// `organizations` when non-empty): one per-day request over the range, then one pooled baseline
// request per day. Alerts come ordered by day, then organization. Errors of `rates` are returned;
// INVALID_ARGUMENT for a bad rule or first_day > last_day.
[[nodiscard]] absl::StatusOr<std::vector<v1::Alert>> DetectSpikes(
    const RatesFn& rates, DayNumber first_day, DayNumber last_day, const SpikeRuleOptions& rule,
    const std::vector<std::string>& organizations = {});

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_ALERTS_SPIKE_DETECTOR_H_
