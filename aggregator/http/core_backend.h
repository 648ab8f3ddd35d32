// core_backend.h: the gateway's Backend on the aggregator's own parts: the registry (params and
// catalogs), the decoder (behind a RatesCache), the store (events, volumes), the error projector
// (privacy panel) and the alert monitor.
//
//   CoreBackend backend(CoreBackend::Parts{.registry = registry.get(), .decoder = decoder.get(),
//                                          .store = store.get(), .projector = projector.get(),
//                                          .alerts = monitor.get(),
//                                          .metrics_text = [&] { return metrics.ExportPrometheus();
//                                          }, .healthy = [&] { return serving.load(); }},
//                       CoreBackendOptions{.rates_cache = {.closed_after_days = max_age_days +
//                       1}});
//   ASSIGN_OR_RETURN(auto gateway, HttpGateway::Start(http_options, &backend, &tokens, &metrics));
//
// Thread safety: every method may be called concurrently (the parts are thread-safe).
#ifndef AGGREGATOR_HTTP_CORE_BACKEND_H_
#define AGGREGATOR_HTTP_CORE_BACKEND_H_

#include <functional>
#include <memory>
#include <string>

#include "aggregator/alerts/alert_monitor.h"
#include "aggregator/decode/decoder.h"
#include "aggregator/http/backend.h"
#include "aggregator/http/rates_cache.h"
#include "aggregator/registry/error_projector.h"
#include "aggregator/registry/registry.h"
#include "aggregator/storage/count_store.h"

namespace pinning::aggregator {

struct CoreBackendOptions {
  RatesCacheOptions rates_cache;
  // Days of volume averaged for the privacy panel (matches the error projector's lookback).
  int volume_lookback_days = 7;
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class CoreBackend final : public Backend {
 public:
  // Parts must outlive the backend. `alerts` may be null (no alerts are listed).
  struct Parts {
    const Registry* registry = nullptr;
    Decoder* decoder = nullptr;
    CountStore* store = nullptr;
    const ErrorProjector* projector = nullptr;
    const AlertMonitor* alerts = nullptr;
    std::function<std::string()> metrics_text;
    std::function<bool()> healthy;
  };
  CoreBackend(Parts parts, CoreBackendOptions options);

  absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request) override;
  absl::StatusOr<std::string> RatesJson(const v1::RatesRequest& request) override;
  absl::StatusOr<v1::Catalog> Catalog(const v1::CatalogRequest& request) override;
  absl::StatusOr<v1::EventsResponse> Events(const v1::EventsRequest& request) override;
  absl::StatusOr<v1::ListParamsResponse> ListParams() override;
  absl::StatusOr<v1::AlertsResponse> Alerts(const v1::AlertsRequest& request) override;
  absl::StatusOr<v1::PrivacySummary> Privacy() override;
  std::string MetricsText() override;
  bool Healthy() override;

  // rates_cache exposes the cache's hit counts (tests, benchmarks).
  const RatesCache& rates_cache() const { return rates_cache_; }

 private:
  const Parts parts_;
  const CoreBackendOptions options_;
  RatesCache rates_cache_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_HTTP_CORE_BACKEND_H_
