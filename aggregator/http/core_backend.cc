#include "aggregator/http/core_backend.h"

#include <utility>

#include "aggregator/storage/day.h"

namespace pinning::aggregator {

CoreBackend::CoreBackend(Parts parts, CoreBackendOptions options)
    : parts_(std::move(parts)),
      options_(std::move(options)),
      rates_cache_(
          [decoder = parts_.decoder](const v1::RatesRequest& r) { return decoder->Rates(r); },
          options_.rates_cache) {}

absl::StatusOr<v1::RatesResponse> CoreBackend::Rates(const v1::RatesRequest& request) {
  return rates_cache_.Rates(request);
}

absl::StatusOr<std::string> CoreBackend::RatesJson(const v1::RatesRequest& request) {
  return rates_cache_.RatesJson(request);
}

absl::StatusOr<v1::Catalog> CoreBackend::Catalog(const v1::CatalogRequest& request) {
  return parts_.registry->GetCatalog(request.version());
}

absl::StatusOr<v1::EventsResponse> CoreBackend::Events(const v1::EventsRequest& request) {
  for (const std::string* day : {&request.from_day(), &request.to_day()}) {
    if (!day->empty()) {
      if (absl::StatusOr<DayNumber> parsed = ParseDay(*day); !parsed.ok()) {
        return absl::InvalidArgumentError(parsed.status().message());
      }
    }
  }
  EventFilter filter;
  filter.from_day = request.from_day();
  filter.to_day = request.to_day();
  filter.organization = request.organization();
  absl::StatusOr<std::vector<v1::RolloutEvent>> events = parts_.store->ListEvents(filter);
  if (!events.ok()) return events.status();
  v1::EventsResponse response;
  for (v1::RolloutEvent& event : *events) *response.add_events() = std::move(event);
  return response;
}

absl::StatusOr<v1::ListParamsResponse> CoreBackend::ListParams() {
  v1::ListParamsResponse response;
  for (v1::ParamsVersion& version : parts_.registry->ListParams()) {
    *response.add_versions() = std::move(version);
  }
  return response;
}

absl::StatusOr<v1::AlertsResponse> CoreBackend::Alerts(const v1::AlertsRequest& request) {
  if (parts_.alerts == nullptr) return v1::AlertsResponse();
  return parts_.alerts->List(request);
}

absl::StatusOr<v1::PrivacySummary> CoreBackend::Privacy() {
  v1::PrivacySummary summary;
  absl::StatusOr<v1::ParamsVersion> current = parts_.registry->CurrentParams();
  if (!current.ok()) {
    return absl::FailedPreconditionError("no parameters have been published yet");
  }
  absl::StatusOr<v1::Catalog> catalog = parts_.registry->GetCatalog(current->catalog_version());
  if (!catalog.ok()) return catalog.status();
  summary.set_catalog_pinsets(static_cast<uint32_t>(catalog->pinsets_size()));

  // Pings per day from the group totals of the lookback window (today included).
  const DayNumber today = DayFromTime(options_.now());
  CountQuery query;
  query.from_day = today - options_.volume_lookback_days + 1;
  query.to_day = today;
  query.include_group_totals = true;
  absl::flat_hash_map<DayNumber, int64_t> pings_by_day;
  absl::Status scan = parts_.store->ForEachCount(query, [&](const CountRow& row) {
    if (row.pinset == kGroupTotalPinset) pings_by_day[row.day] += row.reports;
  });
  if (!scan.ok()) return absl::UnavailableError(scan.message());
  int64_t total = 0;
  for (const auto& [day, pings] : pings_by_day) total += pings;
  summary.set_today(FormatDay(today));
  summary.set_pings_today(static_cast<uint64_t>(pings_by_day[today]));
  summary.set_average_daily_pings(
      pings_by_day.empty() ? 0.0 : static_cast<double>(total) / pings_by_day.size());

  absl::StatusOr<std::vector<v1::ProjectedError>> projected =
      parts_.projector->Project(*current, *catalog);
  if (!projected.ok()) return projected.status();
  for (v1::ProjectedError& error : *projected) *summary.add_projected() = std::move(error);
  *summary.mutable_current() = *std::move(current);
  return summary;
}

std::string CoreBackend::MetricsText() {
  return parts_.metrics_text ? parts_.metrics_text() : std::string();
}

bool CoreBackend::Healthy() { return parts_.healthy ? parts_.healthy() : true; }

}  // namespace pinning::aggregator
