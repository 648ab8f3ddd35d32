// uploader.h: sends a profile's pending pings to the aggregator and fetches its parameters.
//
// Flush sends the pending pings oldest first, one Ingest.Submit each or, for relays, SubmitBatch
// streams of up to kMaxListedRejections pings. For each ping (or batch):
//  - acknowledged (counted now, or already counted: `duplicate`): removed from the queue;
//  - INVALID_ARGUMENT or FAILED_PRECONDITION (malformed, unknown version, day out of window): the
//    aggregator will never accept it, so it is dropped and counted (`dropped_invalid`);
//  - anything else (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ...): kept, and retried
//    after a wait from Backoff (backoff.h): the server's `retry-after-ms` hint when it sends one,
//    else exponential backoff with jitter. After `max_attempts` consecutive failures Flush returns
//    UNAVAILABLE and the pings stay pending for the next Flush (offline days).
// A retried ping keeps its ping id, so a ping whose acknowledgement was lost is counted once
// (the aggregator answers `duplicate`).
//
// RefreshParams (once a day) calls Params.Get with the same retry rules, validates the answer
// (active_params.h) and adopts it, unless one ping under it would take the lifetime privacy loss
// past `epsilon_budget` (privacy_ledger.h): then it refuses, records the refusal in the ledger, and
// the caller keeps its previous parameters.
//
// The uploader holds no per-profile state: the queue, ledger and counters are passed in, so one
// Uploader can serve many profiles (the population simulator) or one browser profile.
//
//   Uploader uploader(options, transport.get(), &clock, crypto_source.get());
//   UploadStats stats;
//   absl::Status flushed = uploader.Flush(pending, stats);    // UNAVAILABLE: try again later
//   ASSIGN_OR_RETURN(ParamsRefresh refresh, uploader.RefreshParams(current, ledger, stats));
//
// Thread safety: not thread-safe (the jitter source is not); use one Uploader per thread. The
// transport, clock, random source and optional cache must outlive it.
#ifndef CLIENT_UPLOAD_UPLOADER_H_
#define CLIENT_UPLOAD_UPLOADER_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/upload/active_params.h"
#include "client/upload/backoff.h"
#include "client/upload/clock.h"
#include "client/upload/ingest_transport.h"
#include "client/upload/pending_pings.h"
#include "client/upload/privacy_ledger.h"
#include "privacy/random_source.h"

namespace pinning::client {

struct UploaderOptions {
  // Deadline of every call.
  absl::Duration call_timeout = absl::Seconds(10);
  BackoffPolicy backoff;
  // Consecutive failed attempts after which Flush or RefreshParams gives up (>= 1).
  int max_attempts = 6;
  // Send pending pings with SubmitBatch (as a relay would) instead of one Submit per ping.
  bool use_submit_batch = false;
  // Pings per SubmitBatch stream, 1..kMaxListedRejections (so every refusal is listed).
  size_t batch_size = kMaxListedRejections;
  // Lifetime privacy-loss budget (whole-ping epsilon summed as in privacy_ledger.h); +inf: none.
  double epsilon_budget = std::numeric_limits<double>::infinity();
};

// ValidateUploaderOptions returns INVALID_ARGUMENT naming the first bad field.
[[nodiscard]] absl::Status ValidateUploaderOptions(const UploaderOptions& options);

// UploadStats are a profile's upload counters (kept by the caller, e.g. in its store).
struct UploadStats {
  uint64_t acknowledged = 0;     // pings counted by the aggregator
  uint64_t duplicates = 0;       // pings acknowledged as already counted (a lost response)
  uint64_t dropped_invalid = 0;  // pings refused as invalid and dropped
  uint64_t failed_attempts = 0;  // failed calls that were (or will be) retried
  uint64_t retry_hints = 0;      // waits that followed a retry-after-ms hint
  uint64_t params_fetches = 0;   // successful Params.Get calls
  uint64_t params_refusals = 0;  // parameters refused for the privacy budget
};

// ParamsRefresh is the outcome of a successful Params.Get.
struct ParamsRefresh {
  enum class Kind {
    kUnchanged,  // the server's current parameters are the ones in use
    kAdopted,    // new parameters (or a new catalog) to use from now on
    kRefused,    // new parameters refused for the budget; `params` is the previous ones
  };
  Kind kind = Kind::kUnchanged;
  // What to use from now on; null only when refused with no previous parameters.
  std::shared_ptr<const ActiveParams> params;
  // For kRefused: why.
  std::string reason;
};

class Uploader {
 public:
  // `options` must pass ValidateUploaderOptions (checked by Create). `cache` may be null.
  Uploader(const UploaderOptions& options, IngestTransport* transport, Clock* clock,
           privacy::RandomSource* jitter_source, ParamsCache* cache = nullptr);

  // Create validates the options first.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Uploader>> Create(
      const UploaderOptions& options, IngestTransport* transport, Clock* clock,
      privacy::RandomSource* jitter_source, ParamsCache* cache = nullptr);

  // Flush sends every pending ping (see the file comment). OK when the queue is empty afterwards;
  // UNAVAILABLE (naming the last error) when it gave up after max_attempts consecutive failures;
  // a queue error as is.
  absl::Status Flush(PendingPings& pending, UploadStats& stats);

  // RefreshParams fetches and validates the current parameters (see the file comment). `current`
  // may be null (first run). Errors: the last call error after max_attempts failures, or the
  // validation error of a bad answer; the caller keeps `current` in both cases.
  absl::StatusOr<ParamsRefresh> RefreshParams(const std::shared_ptr<const ActiveParams>& current,
                                              PrivacyLedger& ledger, UploadStats& stats);

  const UploaderOptions& options() const { return options_; }

 private:
  // Wait sleeps before a retry: the hint when there is one, else the backoff's next delay.
  void Wait(Backoff& backoff, const std::optional<absl::Duration>& hint, UploadStats& stats);
  absl::Status FlushOneByOne(PendingPings& pending, UploadStats& stats);
  absl::Status FlushBatches(PendingPings& pending, UploadStats& stats);

  UploaderOptions options_;
  IngestTransport* transport_;
  Clock* clock_;
  privacy::RandomSource* jitter_source_;
  ParamsCache* cache_;
};

// IsPermanentRejection returns true for the codes after which a ping is dropped:
// INVALID_ARGUMENT and FAILED_PRECONDITION.
bool IsPermanentRejection(absl::StatusCode code);

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_UPLOADER_H_
