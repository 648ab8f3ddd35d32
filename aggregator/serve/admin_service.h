// admin_service.h: the Admin gRPC service (proto/query.proto): publish parameters and catalogs,
// record rollout events, read the audit log.
//
// Every call needs a bearer token with the `privacy-admin` role: UNAUTHENTICATED without a known
// token, PERMISSION_DENIED for a `reader` token. The token holder's name is the actor recorded in
// the audit log. Work runs on a WorkPool (publishing writes to the store).
//
// PublishParams: INVALID_ARGUMENT for out-of-range values; FAILED_PRECONDITION for an unknown
// catalog or when a whole-ping epsilon exceeds its ceiling (the message gives the epsilon and the
// ceiling). A dry run applies the same checks and returns the epsilons and the projected daily
// standard error per organization at recent volume (ErrorProjector) without publishing.
//
//   AdminService admin(&tokens, registry.get(), store.get(), &projector, &pool);
//   builder.RegisterService(&admin);
#ifndef AGGREGATOR_SERVE_ADMIN_SERVICE_H_
#define AGGREGATOR_SERVE_ADMIN_SERVICE_H_

#include "aggregator/registry/error_projector.h"
#include "aggregator/registry/registry.h"
#include "aggregator/serve/auth.h"
#include "aggregator/serve/work_pool.h"
#include "aggregator/storage/count_store.h"
#include "grpcpp/grpcpp.h"
#include "proto/query.grpc.pb.h"

namespace pinning::aggregator {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // Every pointer must outlive the service and the gRPC server.
  AdminService(const TokenStore* tokens, Registry* registry, CountStore* store,
               const ErrorProjector* projector, WorkPool* pool)
      : tokens_(tokens), registry_(registry), store_(store), projector_(projector), pool_(pool) {}

  grpc::ServerUnaryReactor* PublishParams(grpc::CallbackServerContext* context,
                                          const v1::PublishParamsRequest* request,
                                          v1::PublishParamsResponse* response) override;
  grpc::ServerUnaryReactor* PublishCatalog(grpc::CallbackServerContext* context,
                                           const v1::PublishCatalogRequest* request,
                                           v1::PublishCatalogResponse* response) override;
  grpc::ServerUnaryReactor* RecordEvent(grpc::CallbackServerContext* context,
                                        const v1::RolloutEvent* request,
                                        v1::RolloutEvent* response) override;
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* context,
                                      const v1::ListAuditRequest* request,
                                      v1::ListAuditResponse* response) override;

 private:
  const TokenStore* const tokens_;
  Registry* const registry_;
  CountStore* const store_;
  const ErrorProjector* const projector_;
  WorkPool* const pool_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_ADMIN_SERVICE_H_
