// query_service.h: the Query gRPC service (proto/query.proto): decoded rates, catalogs, rollout
// events and the list of parameter versions, for dashboards.
//
// Every call needs a bearer token with the `reader` or `privacy-admin` role (auth.h):
// UNAUTHENTICATED without a known token. The token is checked on the gRPC thread; the work (store
// reads and decoding) runs on a WorkPool so that reactions never block.
//
//   QueryService query(&tokens, registry.get(), decoder.get(), store.get(), &pool);
//   builder.RegisterService(&query);
#ifndef AGGREGATOR_SERVE_QUERY_SERVICE_H_
#define AGGREGATOR_SERVE_QUERY_SERVICE_H_

#include "aggregator/decode/decoder.h"
#include "aggregator/registry/registry.h"
#include "aggregator/serve/auth.h"
#include "aggregator/serve/work_pool.h"
#include "aggregator/storage/count_store.h"
#include "grpcpp/grpcpp.h"
#include "proto/query.grpc.pb.h"

namespace pinning::aggregator {

class QueryService final : public v1::Query::CallbackService {
 public:
  // Every pointer must outlive the service and the gRPC server.
  QueryService(const TokenStore* tokens, const Registry* registry, Decoder* decoder,
               CountStore* store, WorkPool* pool)
      : tokens_(tokens), registry_(registry), decoder_(decoder), store_(store), pool_(pool) {}

  grpc::ServerUnaryReactor* Rates(grpc::CallbackServerContext* context,
                                  const v1::RatesRequest* request,
                                  v1::RatesResponse* response) override;
  grpc::ServerUnaryReactor* Catalog(grpc::CallbackServerContext* context,
                                    const v1::CatalogRequest* request,
                                    v1::Catalog* response) override;
  grpc::ServerUnaryReactor* Events(grpc::CallbackServerContext* context,
                                   const v1::EventsRequest* request,
                                   v1::EventsResponse* response) override;
  grpc::ServerUnaryReactor* ListParams(grpc::CallbackServerContext* context,
                                       const v1::ListParamsRequest* request,
                                       v1::ListParamsResponse* response) override;

 private:
  const TokenStore* const tokens_;
  const Registry* const registry_;
  Decoder* const decoder_;
  CountStore* const store_;
  WorkPool* const pool_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_QUERY_SERVICE_H_
