#include "aggregator/serve/ingest_service.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/ingest/rejection.h"
#include "aggregator/serve/grpc_status.h"
#include "aggregator/serve/rpc_util.h"

namespace pinning::aggregator {

IngestService::IngestService(const Validator* validator, GroupCommitter* committer,
                             IngestServiceOptions options)
    : validator_(validator), committer_(committer), options_(options) {}

grpc::ServerUnaryReactor* IngestService::Submit(grpc::CallbackServerContext* context,
                                                const v1::SubmitRequest* request,
                                                v1::SubmitResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidPingInfo> info = validator_->Validate(request->ping());
  if (!info.ok()) return FinishUnary(context, reactor, info.status());
  absl::Status queued = committer_->Submit(
      request->ping(), *info,
      [context, reactor, response](absl::StatusOr<CommitOutcome> outcome) {
        if (!outcome.ok()) {
          AddRetryTrailer(context, outcome.status());
          reactor->Finish(ToGrpcStatus(outcome.status()));
          return;
        }
        response->set_duplicate(*outcome == CommitOutcome::kDuplicate);
        reactor->Finish(grpc::Status::OK);
      });
  if (!queued.ok()) return FinishUnary(context, reactor, queued);
  return reactor;
}

// BatchReactor reads pings until the client half-closes, queues valid ones, and finishes once
// every queued ping has its commit outcome. Reads and commit callbacks run on different threads;
// mu_ orders them. The reactor deletes itself in OnDone, which gRPC may run on another thread as
// soon as Finish is called; so Finish is called once, only when no commit callback is
// outstanding, outside mu_, and as the last thing the calling thread does with the reactor.
class IngestService::BatchReactor final : public grpc::ServerReadReactor<v1::SubmitRequest> {
 public:
  BatchReactor(IngestService* service, grpc::CallbackServerContext* context,
               v1::SubmitBatchResponse* response)
      : service_(service), context_(context), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed (or the call was cancelled): no more reads.
      std::optional<int64_t> finish;
      {
        absl::MutexLock lock(&mu_);
        reading_done_ = true;
        finish = ClaimFinishLocked();
      }
      if (finish.has_value()) FinishNow(*finish);  // the last use of `this`
      return;
    }
    const uint64_t index = next_index_++;
    absl::StatusOr<ValidPingInfo> info = service_->validator_->Validate(request_.ping());
    absl::Status queued = info.status();
    if (info.ok()) {
      {
        absl::MutexLock lock(&mu_);
        ++in_flight_;
      }
      queued = service_->committer_->Submit(
          std::move(*request_.mutable_ping()), *info,
          [this, index](absl::StatusOr<CommitOutcome> outcome) { OnCommitted(index, outcome); });
    }
    bool read_next;
    {
      absl::MutexLock lock(&mu_);
      if (!queued.ok()) {
        if (info.ok()) --in_flight_;  // queued but refused: no callback will come
        RecordRejectionLocked(index, queued);
      }
      read_next = in_flight_ < service_->options_.max_in_flight;
      read_paused_ = !read_next;
    }
    // No Finish can happen before this read is issued: reading_done_ is still false.
    if (read_next) StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  void OnCommitted(uint64_t index, const absl::StatusOr<CommitOutcome>& outcome) {
    bool resume = false;
    std::optional<int64_t> finish;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      if (!outcome.ok()) {
        RecordRejectionLocked(index, outcome.status());
      } else if (*outcome == CommitOutcome::kDuplicate) {
        response_->set_duplicates(response_->duplicates() + 1);
      } else {
        response_->set_accepted(response_->accepted() + 1);
      }
      // Resume reading at half the window, so reads and commits overlap. While reading is
      // paused no read is outstanding, so only this callback can resume it.
      if (read_paused_ && in_flight_ <= service_->options_.max_in_flight / 2) {
        read_paused_ = false;
        resume = true;
      }
      finish = ClaimFinishLocked();
    }
    if (resume) StartRead(&request_);
    if (finish.has_value()) FinishNow(*finish);  // the last use of `this`
  }

  void RecordRejectionLocked(uint64_t index, const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    response_->set_rejected(response_->rejected() + 1);
    if (std::optional<int64_t> retry = RetryAfterMs(status); retry.has_value()) {
      retry_after_ms_ = std::max(retry_after_ms_, *retry);
    }
    // Keep the lowest indices: commit failures can arrive out of stream order.
    const int limit = service_->options_.max_rejections_listed;
    auto* rejections = response_->mutable_rejections();
    if (rejections->size() >= limit && index >= rejections->Get(limit - 1).index()) return;
    v1::Rejection rejection;
    rejection.set_index(index);
    rejection.set_code(static_cast<int32_t>(status.code()));
    rejection.set_reason(RejectionReason(status));
    rejection.set_message(std::string(status.message()));
    const auto offset = std::upper_bound(rejections->begin(), rejections->end(), index,
                                         [](uint64_t i, const v1::Rejection& r) {
                                           return i < r.index();
                                         }) -
                        rejections->begin();
    *rejections->Add() = std::move(rejection);
    std::rotate(rejections->begin() + offset, rejections->end() - 1, rejections->end());
    if (rejections->size() > limit) rejections->RemoveLast();
  }

  // ClaimFinishLocked returns a value exactly once: when reading is over and no commit is
  // pending. The value is the retry hint to send (0: none).
  std::optional<int64_t> ClaimFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!reading_done_ || in_flight_ > 0 || finished_) return std::nullopt;
    finished_ = true;
    return retry_after_ms_;
  }

  // FinishNow ends the call. gRPC may run OnDone (and delete this reactor) on another thread as
  // soon as Finish is called, so Finish is the last use of `this` and mu_ is not held.
  void FinishNow(int64_t retry_after_ms) {
    if (context_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    if (retry_after_ms > 0) {
      context_->AddTrailingMetadata(kRetryAfterMsKey, absl::StrCat(retry_after_ms));
    }
    Finish(grpc::Status::OK);
  }

  IngestService* const service_;
  grpc::CallbackServerContext* const context_;
  v1::SubmitBatchResponse* const response_;
  // Only touched by the read path (one read outstanding at a time).
  v1::SubmitRequest request_;
  uint64_t next_index_ = 0;

  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int64_t retry_after_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

grpc::ServerReadReactor<v1::SubmitRequest>* IngestService::SubmitBatch(
    grpc::CallbackServerContext* context, v1::SubmitBatchResponse* response) {
  return new BatchReactor(this, context, response);
}

}  // namespace pinning::aggregator
