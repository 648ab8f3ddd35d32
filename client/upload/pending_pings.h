// pending_pings.h: the bounded queue of encoded pings waiting for upload.
//
// A browser encodes one ping per finished day and keeps it until the aggregator acknowledges it,
// across restarts and offline days. PendingPings is the interface the uploader needs; the client
// store implements it durably (client/client_store.h), InMemoryPendingPings keeps pings in memory
// (simulations, tests). The queue is bounded: appending to a full queue drops the oldest pings
// first and counts them, so a client that stays offline for months uses bounded disk and sends
// its most recent days when it comes back.
//
//   InMemoryPendingPings pending(/*capacity=*/30);
//   RETURN_IF_ERROR(pending.Append(ping));
//   ASSIGN_OR_RETURN(std::vector<v1::Ping> oldest, pending.Oldest(10));
//   RETURN_IF_ERROR(pending.Remove({oldest[0].ping_id()}));
//
// Thread safety: implementations are not required to be thread-safe; a profile uses its queue
// from one thread at a time.
#ifndef CLIENT_UPLOAD_PENDING_PINGS_H_
#define CLIENT_UPLOAD_PENDING_PINGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proto/ping.pb.h"

namespace pinning::client {

class PendingPings {
 public:
  virtual ~PendingPings() = default;

  // Append adds `ping` as the newest pending ping. When the queue is full, the oldest pings are
  // dropped first (counted in dropped_overflow()). Errors: INVALID_ARGUMENT for a ping without a
  // 16-byte id; an implementation's storage error (the ping is then not added).
  virtual absl::Status Append(const v1::Ping& ping) = 0;

  // Oldest returns up to `n` pending pings, oldest first.
  virtual absl::StatusOr<std::vector<v1::Ping>> Oldest(size_t n) const = 0;

  // Remove deletes the pending pings whose ids are listed; ids that are not pending are ignored.
  virtual absl::Status Remove(absl::Span<const std::string> ping_ids) = 0;

  // size returns how many pings are pending.
  virtual size_t size() const = 0;

  // capacity returns the most pings the queue holds.
  virtual size_t capacity() const = 0;

  // dropped_overflow returns how many pings were dropped because the queue was full, ever.
  virtual uint64_t dropped_overflow() const = 0;
};

// InMemoryPendingPings keeps serialized pings in memory (about 100 bytes each).
class InMemoryPendingPings final : public PendingPings {
 public:
  // `capacity` >= 1.
  explicit InMemoryPendingPings(size_t capacity);

  absl::Status Append(const v1::Ping& ping) override;
  absl::StatusOr<std::vector<v1::Ping>> Oldest(size_t n) const override;
  absl::Status Remove(absl::Span<const std::string> ping_ids) override;
  size_t size() const override { return pings_.size(); }
  size_t capacity() const override { return capacity_; }
  uint64_t dropped_overflow() const override { return dropped_overflow_; }

 private:
  size_t capacity_;
  uint64_t dropped_overflow_ = 0;
  // Oldest first. A vector, not a deque: an empty deque already allocates a block, and profiles
  // usually hold zero or one ping.
  std::vector<std::string> pings_;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_PENDING_PINGS_H_
