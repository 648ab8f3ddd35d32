#include "aggregator/serve/query_service.h"

#include <utility>

#include "aggregator/serve/rpc_util.h"

namespace pinning::aggregator {

grpc::ServerUnaryReactor* QueryService::Rates(grpc::CallbackServerContext* context,
                                              const v1::RatesRequest* request,
                                              v1::RatesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = AuthorizeCall(*context, *tokens_, Role::kReader); !who.ok()) {
    return FinishUnary(context, reactor, who.status());
  }
  pool_->Schedule([this, context, reactor, request, response] {
    absl::StatusOr<v1::RatesResponse> rates = decoder_->Rates(*request);
    if (rates.ok()) *response = *std::move(rates);
    FinishUnary(context, reactor, rates.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* QueryService::Catalog(grpc::CallbackServerContext* context,
                                                const v1::CatalogRequest* request,
                                                v1::Catalog* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = AuthorizeCall(*context, *tokens_, Role::kReader); !who.ok()) {
    return FinishUnary(context, reactor, who.status());
  }
  absl::StatusOr<v1::Catalog> catalog = registry_->GetCatalog(request->version());
  if (catalog.ok()) *response = *std::move(catalog);
  return FinishUnary(context, reactor, catalog.status());
}

grpc::ServerUnaryReactor* QueryService::Events(grpc::CallbackServerContext* context,
                                               const v1::EventsRequest* request,
                                               v1::EventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = AuthorizeCall(*context, *tokens_, Role::kReader); !who.ok()) {
    return FinishUnary(context, reactor, who.status());
  }
  pool_->Schedule([this, context, reactor, request, response] {
    EventFilter filter;
    filter.from_day = request->from_day();
    filter.to_day = request->to_day();
    filter.organization = request->organization();
    absl::StatusOr<std::vector<v1::RolloutEvent>> events = store_->ListEvents(filter);
    if (events.ok()) {
      for (v1::RolloutEvent& event : *events) *response->add_events() = std::move(event);
    }
    FinishUnary(context, reactor, events.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* QueryService::ListParams(grpc::CallbackServerContext* context,
                                                   const v1::ListParamsRequest* /*request*/,
                                                   v1::ListParamsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = AuthorizeCall(*context, *tokens_, Role::kReader); !who.ok()) {
    return FinishUnary(context, reactor, who.status());
  }
  for (v1::ParamsVersion& version : registry_->ListParams()) {
    *response->add_versions() = std::move(version);
  }
  return FinishUnary(context, reactor, absl::OkStatus());
}

}  // namespace pinning::aggregator
