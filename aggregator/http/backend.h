// backend.h: what the HTTP gateway needs from the aggregator, as one interface.
//
// The gateway (http_gateway.h) parses HTTP requests, checks tokens, and renders JSON; everything
// it serves comes from a Backend. aggregatord implements it with CoreBackend (core_backend.h) on
// its registry, decoder, store and alert monitor; tests implement it with fakes.
//
//   class MyBackend final : public Backend { ... };
//   MyBackend backend;
//   ASSIGN_OR_RETURN(std::unique_ptr<HttpGateway> gateway,
//                    HttpGateway::Start(options, &backend, &tokens));
//
// Thread safety: implementations must allow concurrent calls of every method (the gateway serves
// requests on several threads).
#ifndef AGGREGATOR_HTTP_BACKEND_H_
#define AGGREGATOR_HTTP_BACKEND_H_

#include <string>

#include "absl/status/statusor.h"
#include "aggregator/alerts/alerts.pb.h"
#include "aggregator/http/gateway.pb.h"
#include "aggregator/http/json.h"
#include "proto/catalog.pb.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

class Backend {
 public:
  virtual ~Backend() = default;

  // Rates answers Query.Rates. INVALID_ARGUMENT for a bad request; UNAVAILABLE when storage fails.
  [[nodiscard]] virtual absl::StatusOr<v1::RatesResponse> Rates(
      const v1::RatesRequest& request) = 0;
  // RatesJson is Rates rendered as JSON (json.h). Implementations may override it to serve cached
  // renderings; the result must equal ProtoToJson(*Rates(request)).
  [[nodiscard]] virtual absl::StatusOr<std::string> RatesJson(const v1::RatesRequest& request) {
    absl::StatusOr<v1::RatesResponse> rates = Rates(request);
    if (!rates.ok()) return rates.status();
    return ProtoToJson(*rates);
  }
  // Catalog answers Query.Catalog (empty version: the current catalog); NOT_FOUND when unknown.
  [[nodiscard]] virtual absl::StatusOr<v1::Catalog> Catalog(const v1::CatalogRequest& request) = 0;
  // Events answers Query.Events.
  [[nodiscard]] virtual absl::StatusOr<v1::EventsResponse> Events(
      const v1::EventsRequest& request) = 0;
  // ListParams answers Query.ListParams: every published params version, oldest first.
  [[nodiscard]] virtual absl::StatusOr<v1::ListParamsResponse> ListParams() = 0;
  // Alerts answers Alerts.List.
  [[nodiscard]] virtual absl::StatusOr<v1::AlertsResponse> Alerts(
      const v1::AlertsRequest& request) = 0;
  // Privacy returns the privacy panel's data; FAILED_PRECONDITION before any params exist.
  [[nodiscard]] virtual absl::StatusOr<v1::PrivacySummary> Privacy() = 0;
  // MetricsText returns every metric in Prometheus text format.
  virtual std::string MetricsText() = 0;
  // Healthy is false while the aggregator cannot serve (starting or shutting down).
  virtual bool Healthy() = 0;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_HTTP_BACKEND_H_
