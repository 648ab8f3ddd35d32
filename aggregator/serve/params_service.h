// params_service.h: the Params gRPC service (proto/params.proto): the current randomization
// parameters and catalog for clients. Open (no token), answered from the registry's memory.
//
//   ParamsService params(registry.get());
//   builder.RegisterService(&params);
//
// Statuses: FAILED_PRECONDITION before the first parameters are published.
#ifndef AGGREGATOR_SERVE_PARAMS_SERVICE_H_
#define AGGREGATOR_SERVE_PARAMS_SERVICE_H_

#include "aggregator/registry/registry.h"
#include "grpcpp/grpcpp.h"
#include "proto/params.grpc.pb.h"

namespace pinning::aggregator {

class ParamsService final : public v1::Params::CallbackService {
 public:
  // `registry` must outlive the service.
  explicit ParamsService(const Registry* registry) : registry_(registry) {}

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetParamsRequest* request,
                                v1::GetParamsResponse* response) override;

 private:
  const Registry* const registry_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_PARAMS_SERVICE_H_
