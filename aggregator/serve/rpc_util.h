// rpc_util.h: small helpers shared by the gRPC services: bearer-token checks from call metadata and
// finishing a call with an absl::Status (adding the retry-after-ms trailer for load shedding).
//
//   grpc::ServerUnaryReactor* reactor = context->DefaultReactor();  // once per call
//   absl::StatusOr<Principal> who = AuthorizeCall(*context, tokens, Role::kReader);
//   if (!who.ok()) return FinishUnary(context, reactor, who.status());
//   ...
//   FinishUnary(context, reactor, status);   // OK, or error with trailers
#ifndef AGGREGATOR_SERVE_RPC_UTIL_H_
#define AGGREGATOR_SERVE_RPC_UTIL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/serve/auth.h"
#include "grpcpp/grpcpp.h"

namespace pinning::aggregator {

// kRetryAfterMsKey is the trailing-metadata key of the load-shedding retry hint (milliseconds).
inline constexpr char kRetryAfterMsKey[] = "retry-after-ms";

// AuthorizeCall checks the `authorization` header of the call against `tokens` (see auth.h).
[[nodiscard]] absl::StatusOr<Principal> AuthorizeCall(const grpc::CallbackServerContext& context,
                                                      const TokenStore& tokens, Role required);

// AddRetryTrailer adds `retry-after-ms` trailing metadata when `status` carries a retry hint.
// Must be called before the call is finished.
void AddRetryTrailer(grpc::CallbackServerContext* context, const absl::Status& status);

// FinishUnary finishes the unary call with `status` (retry trailer included) and returns
// `reactor`, so handlers can `return FinishUnary(context, reactor, status);`. `reactor` is the
// call's default reactor, obtained once (gRPC allows one DefaultReactor() call per call).
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      grpc::ServerUnaryReactor* reactor,
                                      const absl::Status& status);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_RPC_UTIL_H_
