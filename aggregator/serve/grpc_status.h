// grpc_status.h: the one place where absl::Status and grpc::Status are converted.
//
// Services return absl::Status internally and convert at the RPC boundary; aggctl converts the
// other way when it reports an RPC failure:
//
//   reactor->Finish(ToGrpcStatus(absl::FailedPreconditionError("unknown params version 7")));
//   absl::Status s = FromGrpcStatus(stub->Get(&context, request, &response));
//
// The numeric codes of absl::StatusCode and grpc::StatusCode are identical (both follow
// google.rpc.Code), so the conversion keeps the code and the message and drops payloads.
#ifndef AGGREGATOR_SERVE_GRPC_STATUS_H_
#define AGGREGATOR_SERVE_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pinning::aggregator {

// ToGrpcStatus returns a grpc::Status with the code and message of `status`.
[[nodiscard]] grpc::Status ToGrpcStatus(const absl::Status& status);

// FromGrpcStatus returns an absl::Status with the code and message of `status`; codes outside the
// google.rpc.Code range become UNKNOWN.
[[nodiscard]] absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_GRPC_STATUS_H_
