// grpc_channel.h: the client side's one place for gRPC channels and status conversion.
//
// The uploader's transport (grpc_ingest_transport.h) and the simulator's Admin/Query client
// (client/sim/aggregator_client.h) both talk to aggregatord over TLS; they build their channels
// and convert grpc::Status into absl::Status here, so both behave the same.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
//                    MakeClientChannel({.target = "localhost:8443", .ca_file = "ca.pem"}));
//   absl::Status s = FromGrpcStatus(stub->Get(&context, request, &response));
#ifndef CLIENT_UPLOAD_GRPC_CHANNEL_H_
#define CLIENT_UPLOAD_GRPC_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"

namespace pinning::client {

struct ChannelOptions {
  // host:port of aggregatord.
  std::string target;
  // PEM file of the CA that signed the server certificate; empty: `ca_pem`, else the system roots.
  std::string ca_file;
  // PEM text of that CA (used when ca_file is empty).
  std::string ca_pem;
  // Plaintext gRPC, for tests and development only.
  bool insecure = false;
};

// MakeClientChannel creates a channel (connecting lazily) with TLS credentials trusting the CA of
// `options`, or plaintext when `insecure`. INVALID_ARGUMENT for an empty target; NOT_FOUND when
// ca_file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(const ChannelOptions& options);

// FromGrpcStatus converts a grpc::Status, keeping the code (both enums follow google.rpc.Code;
// codes outside that range become UNKNOWN) and the message, prefixed with `call` when given.
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view call = "");

// StatusCodeFromInt converts a numeric google.rpc.Code (e.g. from a Rejection); UNKNOWN when out of
// range.
absl::StatusCode StatusCodeFromInt(int code);

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_GRPC_CHANNEL_H_
