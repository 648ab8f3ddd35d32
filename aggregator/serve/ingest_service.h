// ingest_service.h: the Ingest gRPC service (proto/ping.proto) on the callback API.
//
// Submit validates the ping on the gRPC thread and hands it to the group committer; the call is
// finished once the ping's counts are durable, from the committer's callback (which runs on the
// committer's callback executor, see group_committer.h), so no thread ever waits for a commit.
// SubmitBatch is a read reactor: each ping read is validated and
// queued, at most `max_in_flight` of a stream's pings wait for their commit at a time (beyond that
// the reactor stops reading until commits complete, which pushes back on the client through
// HTTP/2 flow control), and the response is sent once every accepted ping is durable.
//
//   IngestService ingest(validator.get(), committer.get(), {.max_in_flight = 4096});
//   builder.RegisterService(&ingest);
//
// Statuses: validation failures keep the validator's code (INVALID_ARGUMENT, FAILED_PRECONDITION);
// a full commit queue is RESOURCE_EXHAUSTED with `retry-after-ms` trailing metadata; a storage
// failure is UNAVAILABLE. In SubmitBatch these become per-ping Rejections and the stream itself
// ends OK (with the retry trailer when some ping was shed).
//
// Thread safety: the service object is shared by all calls; `validator` and `committer` must
// outlive it and the gRPC server.
#ifndef AGGREGATOR_SERVE_INGEST_SERVICE_H_
#define AGGREGATOR_SERVE_INGEST_SERVICE_H_

#include "aggregator/ingest/group_committer.h"
#include "aggregator/ingest/validator.h"
#include "grpcpp/grpcpp.h"
#include "proto/ping.grpc.pb.h"

namespace pinning::aggregator {

struct IngestServiceOptions {
  // Most pings of one SubmitBatch stream waiting for their commit.
  int max_in_flight = 4096;
  // Most Rejection entries in a SubmitBatchResponse (the proto promises at most 100).
  int max_rejections_listed = 100;
};

class IngestService final : public v1::Ingest::CallbackService {
 public:
  IngestService(const Validator* validator, GroupCommitter* committer,
                IngestServiceOptions options);

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest* request,
                                   v1::SubmitResponse* response) override;

  grpc::ServerReadReactor<v1::SubmitRequest>* SubmitBatch(
      grpc::CallbackServerContext* context, v1::SubmitBatchResponse* response) override;

 private:
  class BatchReactor;

  const Validator* const validator_;
  GroupCommitter* const committer_;
  const IngestServiceOptions options_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_INGEST_SERVICE_H_
