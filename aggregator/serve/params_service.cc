#include "aggregator/serve/params_service.h"

#include <utility>

#include "aggregator/serve/rpc_util.h"

namespace pinning::aggregator {

grpc::ServerUnaryReactor* ParamsService::Get(grpc::CallbackServerContext* context,
                                             const v1::GetParamsRequest* request,
                                             v1::GetParamsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::GetParamsResponse> answer =
      registry_->ForClient(request->known_catalog_version());
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, reactor, answer.status());
}

}  // namespace pinning::aggregator
