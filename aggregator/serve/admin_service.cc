#include "aggregator/serve/admin_service.h"

#include <string>
#include <utility>

#include "aggregator/serve/rpc_util.h"

namespace pinning::aggregator {

grpc::ServerUnaryReactor* AdminService::PublishParams(grpc::CallbackServerContext* context,
                                                      const v1::PublishParamsRequest* request,
                                                      v1::PublishParamsResponse* response) {
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, who.status());
  pool_->Schedule([this, context, request, response, actor = who->name] {
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
      FinishUnary(context, result.status());
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
    FinishUnary(context, absl::OkStatus());
  });
  return context->DefaultReactor();
}

grpc::ServerUnaryReactor* AdminService::PublishCatalog(grpc::CallbackServerContext* context,
                                                       const v1::PublishCatalogRequest* request,
                                                       v1::PublishCatalogResponse* response) {
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, who.status());
  pool_->Schedule([this, context, request, response, actor = who->name] {
    absl::StatusOr<std::string> version =
        registry_->PublishCatalog(request->catalog(), request->note(), actor);
    if (version.ok()) response->set_version(*version);
    FinishUnary(context, version.status());
  });
  return context->DefaultReactor();
}

grpc::ServerUnaryReactor* AdminService::RecordEvent(grpc::CallbackServerContext* context,
                                                    const v1::RolloutEvent* request,
                                                    v1::RolloutEvent* response) {
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, who.status());
  pool_->Schedule([this, context, request, response, actor = who->name] {
    absl::StatusOr<v1::RolloutEvent> stored = registry_->RecordEvent(*request, actor);
    if (stored.ok()) *response = *std::move(stored);
    FinishUnary(context, stored.status());
  });
  return context->DefaultReactor();
}

grpc::ServerUnaryReactor* AdminService::ListAudit(grpc::CallbackServerContext* context,
                                                  const v1::ListAuditRequest* request,
                                                  v1::ListAuditResponse* response) {
  absl::StatusOr<Principal> who = AuthorizeCall(*context, *tokens_, Role::kPrivacyAdmin);
  if (!who.ok()) return FinishUnary(context, who.status());
  pool_->Schedule([this, context, request, response] {
    absl::StatusOr<std::vector<v1::AuditRecord>> records = store_->ListAudit(request->limit());
    if (records.ok()) {
      for (v1::AuditRecord& r : *records) *response->add_records() = std::move(r);
    }
    FinishUnary(context, records.status());
  });
  return context->DefaultReactor();
}

}  // namespace pinning::aggregator
