#include "aggregator/alerts/testing/aggregator_filler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "proto/ping.grpc.pb.h"
#include "proto/query.grpc.pb.h"

namespace pinning::aggregator::testing {
namespace {

absl::Status Failed(absl::string_view call, const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(call, ": ", status.error_message()));
}

void Prepare(grpc::ClientContext& context, const FillOptions& options, bool admin) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.deadline));
  if (admin) context.AddMetadata("authorization", "Bearer " + options.admin_token);
}

}  // namespace

absl::StatusOr<FillResult> FillAggregator(std::shared_ptr<grpc::Channel> channel,
                                          FillOptions options) {
  if (options.first_day > options.last_day) {
    return absl::InvalidArgumentError("first_day is after last_day");
  }
  auto admin = v1::Admin::NewStub(channel);
  auto ingest = v1::Ingest::NewStub(channel);
  FillResult result;

  // The catalog does not depend on the params version: build it once to publish it.
  absl::StatusOr<std::unique_ptr<SyntheticPopulation>> probe =
      SyntheticPopulation::Create(options.population);
  if (!probe.ok()) return probe.status();
  {
    v1::PublishCatalogRequest request;
    *request.mutable_catalog() = (*probe)->catalog();
    request.mutable_catalog()->clear_version();
    request.set_note("synthetic population");
    v1::PublishCatalogResponse response;
    grpc::ClientContext context;
    Prepare(context, options, true);
    grpc::Status status = admin->PublishCatalog(&context, request, &response);
    if (!status.ok()) return Failed("Admin.PublishCatalog", status);
    if (response.version() != (*probe)->catalog().version()) {
      return absl::InternalError(absl::StrCat("the aggregator computed catalog version ",
                                              response.version(), ", expected ",
                                              (*probe)->catalog().version()));
    }
    result.catalog_version = response.version();
  }
  {
    v1::PublishParamsRequest request;
    *request.mutable_params() = (*probe)->params();
    request.set_catalog_version(result.catalog_version);
    request.set_note("synthetic population");
    v1::PublishParamsResponse response;
    grpc::ClientContext context;
    Prepare(context, options, true);
    grpc::Status status = admin->PublishParams(&context, request, &response);
    if (!status.ok()) return Failed("Admin.PublishParams", status);
    result.params_version = response.published().version();
  }
  options.population.params_version = result.params_version;
  absl::StatusOr<std::unique_ptr<SyntheticPopulation>> population =
      SyntheticPopulation::Create(options.population);
  if (!population.ok()) return population.status();

  std::vector<v1::SubmitRequest> batch;
  batch.reserve(options.batch_size);
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    grpc::ClientContext context;
    Prepare(context, options, false);
    v1::SubmitBatchResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::SubmitRequest>> writer =
        ingest->SubmitBatch(&context, &response);
    for (const v1::SubmitRequest& request : batch) {
      if (!writer->Write(request)) break;  // the status below says why
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    batch.clear();
    if (!status.ok()) return Failed("Ingest.SubmitBatch", status);
    result.accepted += static_cast<int64_t>(response.accepted());
    result.duplicates += static_cast<int64_t>(response.duplicates());
    result.rejected += static_cast<int64_t>(response.rejected());
    if (result.first_rejection.empty() && response.rejections_size() > 0) {
      result.first_rejection =
          absl::StrCat(response.rejections(0).reason(), ": ", response.rejections(0).message());
    }
    return absl::OkStatus();
  };
  for (DayNumber day = options.first_day; day <= options.last_day; ++day) {
    absl::Status flushed = absl::OkStatus();
    absl::Status encoded = (*population)->ForEachPing(day, [&](const v1::Ping& ping) {
      if (!flushed.ok()) return;
      v1::SubmitRequest& request = batch.emplace_back();
      *request.mutable_ping() = ping;
      if (static_cast<int>(batch.size()) >= options.batch_size) flushed = flush();
    });
    if (!encoded.ok()) return encoded;
    if (!flushed.ok()) return flushed;
  }
  if (absl::Status s = flush(); !s.ok()) return s;

  for (const v1::RolloutEvent& event : options.events) {
    v1::RolloutEvent stored;
    grpc::ClientContext context;
    Prepare(context, options, true);
    grpc::Status status = admin->RecordEvent(&context, event, &stored);
    if (!status.ok()) return Failed("Admin.RecordEvent", status);
  }
  return result;
}

PopulationSpec DemoPopulation(DayNumber last_day, int clients) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(50);
  spec.clients = clients;
  spec.params.set_f(0.1);
  spec.params.set_p(0.1);
  spec.params.set_q(0.9);
  spec.params.set_pinsets_per_ping(16);
  spec.params.set_bits_per_pinset(2);
  spec.dimensions.resize(4);
  spec.dimensions[0].set_product("chrome");
  spec.dimensions[0].set_channel("stable");
  spec.dimensions[1].set_product("chrome");
  spec.dimensions[1].set_channel("beta");
  spec.dimensions[2].set_product("firefox");
  spec.dimensions[2].set_channel("stable");
  spec.dimensions[3].set_product("firefox");
  spec.dimensions[3].set_channel("nightly");
  for (auto& org : spec.organizations) {
    if (org.name == "Umbra Security") {
      org.violation_rate = 0.01;
      org.mode = v1::PIN_MODE_TEST;  // a test-mode pinset, so the advisor has a verdict to give
    }
    if (org.name == "Cedar Cloud") org.violation_rate = 0.03;
  }
  spec.spikes.push_back(
      {.organization = "Umbra Security", .day = last_day - 1, .violation_rate = 0.4});
  spec.changes.push_back(
      {.organization = "Cedar Cloud", .day = last_day - 40, .violation_rate = 0.003});
  spec.seed = 20240601;
  return spec;
}

std::vector<v1::RolloutEvent> DemoEvents(DayNumber last_day) {
  std::vector<v1::RolloutEvent> events(3);
  events[0].set_day(FormatDay(last_day - 40));
  events[0].set_kind(v1::EVENT_KIND_PINSET_CHANGE);
  events[0].set_organization("Cedar Cloud");
  events[0].set_pinset("cedar-cloud");
  events[0].set_description("Added the backup key of the new CA to cedar-cloud");
  events[1].set_day(FormatDay(last_day - 20));
  events[1].set_kind(v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  events[1].set_organization("Acorn Bank");
  events[1].set_pinset("acorn-bank");
  events[1].set_description("acorn-bank promoted to enforce after 30 quiet days");
  events[2].set_day(FormatDay(last_day - 10));
  events[2].set_kind(v1::EVENT_KIND_NOTE);
  events[2].set_description("Browser release 131 reached the stable channel");
  return events;
}

}  // namespace pinning::aggregator::testing
