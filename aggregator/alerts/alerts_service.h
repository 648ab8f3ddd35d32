// alerts_service.h: the gRPC Alerts service (aggregator/alerts/alerts.proto): lists the spike
// alerts an AlertMonitor keeps.
//
// Like Query, every call needs a bearer token with the `reader` or `privacy-admin` role
// (aggregator/serve/auth.h): UNAUTHENTICATED without a known token.
//
//   AlertsService alerts_service(&tokens, monitor.get());
//   builder.RegisterService(&alerts_service);
#ifndef AGGREGATOR_ALERTS_ALERTS_SERVICE_H_
#define AGGREGATOR_ALERTS_ALERTS_SERVICE_H_

#include "aggregator/alerts/alert_monitor.h"
#include "aggregator/alerts/alerts.grpc.pb.h"
#include "aggregator/serve/auth.h"
#include "grpcpp/grpcpp.h"

namespace pinning::aggregator {

class AlertsService final : public v1::Alerts::CallbackService {
 public:
  // `tokens` and `monitor` must outlive the service and the gRPC server.
  AlertsService(const TokenStore* tokens, const AlertMonitor* monitor)
      : tokens_(tokens), monitor_(monitor) {}

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::AlertsRequest* request,
                                 v1::AlertsResponse* response) override;

 private:
  const TokenStore* const tokens_;
  const AlertMonitor* const monitor_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_ALERTS_ALERTS_SERVICE_H_
