#include "client/upload/grpc_ingest_transport.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "client/upload/grpc_channel.h"
#include "grpcpp/grpcpp.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"

namespace pinning::client {
namespace {

std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kRetryAfterMsKey);
  if (it == trailers.end()) return std::nullopt;
  return ParseRetryAfterMs(absl::string_view(it->second.data(), it->second.size()));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace

struct GrpcIngestTransport::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Ingest::Stub> ingest;
  std::unique_ptr<v1::Params::Stub> params;
};

absl::StatusOr<std::unique_ptr<GrpcIngestTransport>> GrpcIngestTransport::Create(
    const GrpcTransportOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeClientChannel({.target = options.target,
                         .ca_file = options.ca_file,
                         .ca_pem = options.ca_pem,
                         .insecure = options.insecure});
  if (!channel.ok()) return channel.status();
  auto impl = std::make_unique<Impl>();
  impl->channel = *std::move(channel);
  impl->ingest = v1::Ingest::NewStub(impl->channel);
  impl->params = v1::Params::NewStub(impl->channel);
  return std::unique_ptr<GrpcIngestTransport>(new GrpcIngestTransport(std::move(impl)));
}

GrpcIngestTransport::GrpcIngestTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcIngestTransport::~GrpcIngestTransport() = default;

SubmitOutcome GrpcIngestTransport::Submit(const v1::Ping& ping, absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  v1::SubmitRequest request;
  *request.mutable_ping() = ping;
  v1::SubmitResponse response;
  SubmitOutcome outcome;
  outcome.status = FromGrpcStatus(impl_->ingest->Submit(&context, request, &response));
  outcome.duplicate = outcome.status.ok() && response.duplicate();
  outcome.retry_after = RetryAfter(context);
  return outcome;
}

BatchOutcome GrpcIngestTransport::SubmitBatch(absl::Span<const v1::Ping> pings,
                                              absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  v1::SubmitBatchResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::SubmitRequest>> writer =
      impl_->ingest->SubmitBatch(&context, &response);
  v1::SubmitRequest request;
  for (const v1::Ping& ping : pings) {
    *request.mutable_ping() = ping;
    if (!writer->Write(request)) break;  // the stream failed; Finish() says why
  }
  writer->WritesDone();
  BatchOutcome outcome;
  outcome.status = FromGrpcStatus(writer->Finish());
  outcome.retry_after = RetryAfter(context);
  if (!outcome.status.ok()) return outcome;
  outcome.accepted = response.accepted();
  outcome.duplicates = response.duplicates();
  outcome.rejected = response.rejected();
  for (const v1::Rejection& r : response.rejections()) {
    outcome.rejections.push_back({.index = static_cast<size_t>(r.index()),
                                  .code = StatusCodeFromInt(r.code()),
                                  .reason = r.reason(),
                                  .message = r.message()});
  }
  return outcome;
}

ParamsOutcome GrpcIngestTransport::GetParams(absl::string_view known_catalog_version,
                                             absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  v1::GetParamsRequest request;
  request.set_known_catalog_version(std::string(known_catalog_version));
  ParamsOutcome outcome;
  outcome.status = FromGrpcStatus(impl_->params->Get(&context, request, &outcome.response));
  outcome.retry_after = RetryAfter(context);
  return outcome;
}

}  // namespace pinning::client
