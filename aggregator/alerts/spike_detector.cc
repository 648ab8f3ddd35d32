#include "aggregator/alerts/spike_detector.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pinning::aggregator {
namespace {

double StandardNormalSurvival(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }

std::string Percent(double rate) { return absl::StrFormat("%.2f%%", 100.0 * rate); }

}  // namespace

absl::Status ValidateSpikeRule(const SpikeRuleOptions& rule) {
  if (!std::isfinite(rule.z) || rule.z <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("alert z must be > 0, got ", rule.z));
  }
  if (rule.baseline_days < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert baseline_days must be >= 1, got ", rule.baseline_days));
  }
  if (rule.min_pings < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert min_pings must be >= 0, got ", rule.min_pings));
  }
  if (!std::isfinite(rule.min_increase) || rule.min_increase < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert min_increase must be >= 0, got ", rule.min_increase));
  }
  return absl::OkStatus();
}

std::string RuleName(const SpikeRuleOptions& rule) {
  return absl::StrCat("interval_above_baseline(z=", rule.z, ", baseline_days=", rule.baseline_days,
                      ")");
}

double FalseAlarmProbability(double z, double baseline_to_today_se_ratio) {
  const double rho = std::max(0.0, baseline_to_today_se_ratio);
  return StandardNormalSurvival(z * (1.0 + rho) / std::sqrt(1.0 + rho * rho));
}

std::optional<v1::Alert> EvaluateSpike(absl::string_view organization, const v1::RatePoint& today,
                                       const v1::RatePoint& baseline, DayNumber baseline_from,
                                       DayNumber baseline_to, const SpikeRuleOptions& rule) {
  if (!today.sufficient() || !baseline.sufficient()) return std::nullopt;
  if (static_cast<int64_t>(today.pings()) < rule.min_pings ||
      static_cast<int64_t>(baseline.pings()) < rule.min_pings) {
    return std::nullopt;
  }
  const double low = today.rate() - rule.z * today.std_error();
  const double baseline_high = baseline.rate() + rule.z * baseline.std_error();
  if (!(low > baseline_high)) return std::nullopt;
  if (today.rate() - baseline.rate() < rule.min_increase) return std::nullopt;

  v1::Alert alert;
  alert.set_id(absl::StrCat(organization, "/", today.day()));
  alert.set_organization(std::string(organization));
  alert.set_day(today.day());
  alert.set_rule(RuleName(rule));
  alert.set_rate(today.rate());
  alert.set_std_error(today.std_error());
  alert.set_low(std::clamp(low, 0.0, 1.0));
  alert.set_high(std::clamp(today.rate() + rule.z * today.std_error(), 0.0, 1.0));
  alert.set_pings(today.pings());
  alert.set_baseline_from_day(FormatDay(baseline_from));
  alert.set_baseline_to_day(FormatDay(baseline_to));
  alert.set_baseline_rate(baseline.rate());
  alert.set_baseline_std_error(baseline.std_error());
  alert.set_baseline_low(std::clamp(baseline.rate() - rule.z * baseline.std_error(), 0.0, 1.0));
  alert.set_baseline_high(std::clamp(baseline_high, 0.0, 1.0));
  alert.set_baseline_pings(baseline.pings());
  alert.set_message(
      absl::StrCat(organization, ": violation rate ", Percent(today.rate()), " on ", today.day(),
                   " (", Percent(alert.low()), " to ", Percent(alert.high()), " at ", rule.z,
                   " standard errors) is above the ", rule.baseline_days, "-day baseline ",
                   Percent(baseline.rate()), " (", Percent(alert.baseline_low()), " to ",
                   Percent(alert.baseline_high()), ")"));
  alert.set_active(true);
  return alert;
}

absl::StatusOr<std::vector<v1::Alert>> DetectSpikes(const RatesFn& rates, DayNumber first_day,
                                                    DayNumber last_day,
                                                    const SpikeRuleOptions& rule,
                                                    const std::vector<std::string>& organizations) {
  if (absl::Status s = ValidateSpikeRule(rule); !s.ok()) return s;
  if (first_day > last_day) {
    return absl::InvalidArgumentError(absl::StrCat("first day ", FormatDay(first_day),
                                                   " is after last day ", FormatDay(last_day)));
  }
  v1::RatesRequest request;
  request.set_group_by(v1::GROUP_BY_ORGANIZATION);
  for (const std::string& org : organizations) request.add_keys(org);

  request.set_from_day(FormatDay(first_day));
  request.set_to_day(FormatDay(last_day));
  request.set_per_day(true);
  absl::StatusOr<v1::RatesResponse> daily = rates(request);
  if (!daily.ok()) return daily.status();

  // organization -> day -> point.
  std::map<std::string, std::map<std::string, const v1::RatePoint*>> today_points;
  for (const v1::RateSeries& series : daily->series()) {
    for (const v1::RatePoint& point : series.points()) {
      if (point.sufficient()) today_points[series.key()][point.day()] = &point;
    }
  }

  std::vector<v1::Alert> alerts;
  request.set_per_day(false);
  for (DayNumber day = first_day; day <= last_day; ++day) {
    const std::string day_text = FormatDay(day);
    // Skip the baseline query on days where no organization has a usable point.
    bool any = false;
    for (const auto& [org, points] : today_points) any = any || points.contains(day_text);
    if (!any) continue;
    const DayNumber baseline_from = day - rule.baseline_days;
    const DayNumber baseline_to = day - 1;
    request.set_from_day(FormatDay(baseline_from));
    request.set_to_day(FormatDay(baseline_to));
    absl::StatusOr<v1::RatesResponse> baseline = rates(request);
    if (!baseline.ok()) return baseline.status();
    for (const v1::RateSeries& series : baseline->series()) {
      if (series.points_size() != 1) continue;
      auto org = today_points.find(series.key());
      if (org == today_points.end()) continue;
      auto point = org->second.find(day_text);
      if (point == org->second.end()) continue;
      std::optional<v1::Alert> alert = EvaluateSpike(series.key(), *point->second, series.points(0),
                                                     baseline_from, baseline_to, rule);
      if (alert.has_value()) alerts.push_back(*std::move(alert));
    }
  }
  // Baseline series come sorted by key, so alerts are ordered by day, then organization.
  return alerts;
}

}  // namespace pinning::aggregator
