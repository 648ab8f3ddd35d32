#include "aggregator/alerts/alerts_service.h"

#include <utility>

#include "aggregator/serve/grpc_status.h"

namespace pinning::aggregator {

grpc::ServerUnaryReactor* AlertsService::List(grpc::CallbackServerContext* context,
                                              const v1::AlertsRequest* request,
                                              v1::AlertsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto& metadata = context->client_metadata();
  absl::string_view authorization;
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  if (absl::StatusOr<Principal> who = tokens_->Authorize(authorization, Role::kReader); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  // List only copies alerts from memory under a mutex: cheap enough for the reaction.
  absl::StatusOr<v1::AlertsResponse> alerts = monitor_->List(*request);
  if (alerts.ok()) *response = *std::move(alerts);
  reactor->Finish(ToGrpcStatus(alerts.status()));
  return reactor;
}

}  // namespace pinning::aggregator
