#include "aggregator/registry/error_projector.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "aggregator/registry/whole_ping_epsilon.h"
#include "aggregator/storage/day.h"
#include "privacy/estimator.h"
#include "privacy/params.h"

namespace pinning::aggregator {
namespace {

struct Fractions {
  double checked = 0;
  double violated = 0;
};

}  // namespace

ErrorProjector::ErrorProjector(Decoder* decoder, CountStore* store, ErrorProjectorOptions options)
    : decoder_(decoder), store_(store), options_(std::move(options)) {}

absl::StatusOr<std::vector<v1::ProjectedError>> ErrorProjector::Project(
    const v1::ParamsVersion& proposed, const v1::Catalog& catalog) const {
  absl::StatusOr<privacy::Params> params = ToPrivacyParams(proposed.params());
  if (!params.ok()) return params.status();
  const int num_pinsets = catalog.pinsets_size();
  if (num_pinsets == 0) return std::vector<v1::ProjectedError>();

  const DayNumber today = DayFromTime(options_.now());
  const DayNumber first = today - std::max(options_.lookback_days, 1) + 1;

  // N: average pings per day over the days that have pings.
  CountQuery query;
  query.from_day = first;
  query.to_day = today;
  query.include_group_totals = true;
  int64_t total_pings = 0;
  absl::flat_hash_set<DayNumber> days_with_pings;
  absl::Status read = store_->ForEachCount(query, [&](const CountRow& row) {
    if (row.pinset != kGroupTotalPinset || row.reports <= 0) return;
    total_pings += row.reports;
    days_with_pings.insert(row.day);
  });
  if (!read.ok()) return read;
  if (total_pings == 0) return std::vector<v1::ProjectedError>();
  const double daily_pings = static_cast<double>(total_pings) / days_with_pings.size();

  // c_i and v_i per pinset name, from the decoder.
  v1::RatesRequest rates_request;
  rates_request.set_from_day(FormatDay(first));
  rates_request.set_to_day(FormatDay(today));
  rates_request.set_group_by(v1::GROUP_BY_PINSET);
  rates_request.set_per_day(false);
  absl::StatusOr<v1::RatesResponse> rates = decoder_->Rates(rates_request);
  if (!rates.ok()) return rates.status();
  absl::flat_hash_map<std::string, Fractions> fractions;
  for (const v1::RateSeries& series : rates->series()) {
    if (series.points_size() == 0) continue;
    const v1::RatePoint& point = series.points(0);
    if (!point.sufficient() || point.pings() == 0) continue;
    Fractions f;
    f.checked = std::clamp(point.checked_estimate() / point.pings(), 0.0, 1.0);
    f.violated = std::clamp(point.violated_estimate() / point.pings(), 0.0, f.checked);
    fractions[series.key()] = f;
  }

  // Expected daily counts under the proposed parameters.
  const double p_star = params->PStar();
  const double q_star = params->QStar();
  const double reports_per_pinset =
      daily_pings * params->ReportedPinsets(num_pinsets) / static_cast<double>(num_pinsets);
  const int64_t reports = std::llround(reports_per_pinset);
  std::map<std::string, std::vector<privacy::PinsetCounts>> by_organization;
  for (const v1::Pinset& pinset : catalog.pinsets()) {
    auto it = fractions.find(pinset.name());
    if (it == fractions.end() || reports == 0) continue;
    privacy::PinsetCounts counts;
    counts.reports = reports;
    counts.checked_ones =
        std::llround(reports_per_pinset * (p_star + (q_star - p_star) * it->second.checked));
    counts.violated_ones =
        std::llround(reports_per_pinset * (p_star + (q_star - p_star) * it->second.violated));
    by_organization[pinset.organization()].push_back(counts);
  }

  std::vector<v1::ProjectedError> projected;
  for (const auto& [organization, counts] : by_organization) {
    privacy::RateEstimate estimate = privacy::EstimateOrganizationRate(counts, *params);
    if (!estimate.sufficient || !std::isfinite(estimate.std_error)) continue;
    v1::ProjectedError error;
    error.set_organization(organization);
    error.set_std_error(estimate.std_error);
    projected.push_back(std::move(error));
  }
  return projected;
}

}  // namespace pinning::aggregator
