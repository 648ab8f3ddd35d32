#include "client/sim/aggregator_client.h"

#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/upload/grpc_channel.h"
#include "grpcpp/grpcpp.h"
#include "proto/query.grpc.pb.h"

namespace pinning::client::sim {
struct GrpcAggregatorClient::Impl {
  AggregatorClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::Query::Stub> query;

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
    return context;
  }
};

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read token file ", path));
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat("empty token file ", path));
  return token;
}

absl::StatusOr<std::unique_ptr<GrpcAggregatorClient>> GrpcAggregatorClient::Create(
    const AggregatorClientOptions& options) {
  if (options.target.empty()) return absl::InvalidArgumentError("aggregator target is empty");
  if (options.token.empty()) return absl::InvalidArgumentError("no bearer token");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeClientChannel({.target = options.target,
                         .ca_file = options.ca_file,
                         .ca_pem = options.ca_pem,
                         .insecure = options.insecure});
  if (!channel.ok()) return channel.status();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->channel = *std::move(channel);
  impl->admin = v1::Admin::NewStub(impl->channel);
  impl->query = v1::Query::NewStub(impl->channel);
  return std::unique_ptr<GrpcAggregatorClient>(new GrpcAggregatorClient(std::move(impl)));
}

GrpcAggregatorClient::GrpcAggregatorClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcAggregatorClient::~GrpcAggregatorClient() = default;

absl::StatusOr<std::string> GrpcAggregatorClient::PublishCatalog(const v1::Catalog& catalog,
                                                                 absl::string_view note) {
  v1::PublishCatalogRequest request;
  *request.mutable_catalog() = catalog;
  request.set_note(std::string(note));
  v1::PublishCatalogResponse response;
  auto context = impl_->Context();
  if (absl::Status s = FromGrpcStatus(
          impl_->admin->PublishCatalog(context.get(), request, &response), "Admin.PublishCatalog");
      !s.ok()) {
    return s;
  }
  return response.version();
}

absl::StatusOr<v1::ParamsVersion> GrpcAggregatorClient::PublishParams(
    const v1::RandomizationParams& params, absl::string_view catalog_version,
    absl::string_view note) {
  v1::PublishParamsRequest request;
  *request.mutable_params() = params;
  request.set_catalog_version(std::string(catalog_version));
  request.set_note(std::string(note));
  v1::PublishParamsResponse response;
  auto context = impl_->Context();
  if (absl::Status s = FromGrpcStatus(
          impl_->admin->PublishParams(context.get(), request, &response), "Admin.PublishParams");
      !s.ok()) {
    return s;
  }
  return response.published();
}

absl::StatusOr<v1::RolloutEvent> GrpcAggregatorClient::RecordEvent(const v1::RolloutEvent& event) {
  v1::RolloutEvent response;
  auto context = impl_->Context();
  if (absl::Status s = FromGrpcStatus(impl_->admin->RecordEvent(context.get(), event, &response),
                                      "Admin.RecordEvent");
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::RatesResponse> GrpcAggregatorClient::Rates(const v1::RatesRequest& request) {
  v1::RatesResponse response;
  auto context = impl_->Context();
  if (absl::Status s =
          FromGrpcStatus(impl_->query->Rates(context.get(), request, &response), "Query.Rates");
      !s.ok()) {
    return s;
  }
  return response;
}

}  // namespace pinning::client::sim
