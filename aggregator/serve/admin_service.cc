#include "aggregator/serve/admin_service.h"

#include <string>
#include <utility>

#include "aggregator/serve/rpc_util.h"

namespace pinning::aggregator {

grpc::ServerUnaryReactor* AdminService::PublishParams(grpc::CallbackServerContext* context,
                                                      const v1::PublishParamsRequest* request,
                                                      v1::PublishParamsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, reactor, who.status());
  pool_->Schedule([this, context, reactor, request, response, actor = who->name] {
    absl::StatusOr<v1::ParamsVersion> result;
    if (request->dry_run()) {
      result = registry_->Evaluate(request->params(), request->catalog_version());
      if (result.ok()) {
        if (absl::Status s = registry_->CheckCeilings(*result); !s.ok()) result = s;
      }
    } else {
      result = registry_->PublishParams(request->params(), request->catalog_version(),
                                        request->note(), actor);
    }
    if (!result.ok()) {
      FinishUnary(context, reactor, result.status());
      return;
    }
    // A projection failure does not undo a publication; the projection is simply left empty.
    absl::StatusOr<v1::Catalog> catalog = registry_->GetCatalog(result->catalog_version());
    absl::StatusOr<std::vector<v1::ProjectedError>> projected =
        catalog.ok() ? projector_->Project(*result, *catalog)
                     : absl::StatusOr<std::vector<v1::ProjectedError>>(catalog.status());
    if (projected.ok()) {
      for (v1::ProjectedError& e : *projected) *response->add_projected() = std::move(e);
    }
    *response->mutable_published() = *std::move(result);
    FinishUnary(context, reactor, absl::OkStatus());
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::PublishCatalog(grpc::CallbackServerContext* context,
                                                       const v1::PublishCatalogRequest* request,
                                                       v1::PublishCatalogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, reactor, who.status());
  pool_->Schedule([this, context, reactor, request, response, actor = who->name] {
    absl::StatusOr<std::string> version =
        registry_->PublishCatalog(request->catalog(), request->note(), actor);
    if (version.ok()) response->set_version(*version);
    FinishUnary(context, reactor, version.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RecordEvent(grpc::CallbackServerContext* context,
                                                    const v1::RolloutEvent* request,
                                                    v1::RolloutEvent* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, reactor, who.status());
  pool_->Schedule([this, context, reactor, request, response, actor = who->name] {
    absl::StatusOr<v1::RolloutEvent> stored = registry_->RecordEvent(*request, actor);
    if (stored.ok()) *response = *std::move(stored);
    FinishUnary(context, reactor, stored.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListAudit(grpc::CallbackServerContext* context,
                                                  const v1::ListAuditRequest* request,
                                                  v1::ListAuditResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, reactor, who.status());
  pool_->Schedule([this, context, reactor, request, response] {
    absl::StatusOr<std::vector<v1::AuditRecord>> records = store_->ListAudit(request->limit());
    if (records.ok()) {
      for (v1::AuditRecord& r : *records) *response->add_records() = std::move(r);
    }
    FinishUnary(context, reactor, records.status());
  });
  return reactor;
}

}  // namespace pinning::aggregator
