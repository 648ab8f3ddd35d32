// rejection.h: ingest errors that carry a machine-readable reason and a retry hint.
//
// Every refused ping gets an absl::Status whose code is the gRPC code the client receives and
// whose payload holds the reason label, which is also the label of the
// `pinning_ingest_rejected_total{reason=...}` counter and of Rejection.reason in
// proto/ping.proto. Overload errors also carry the retry delay the server sends in the
// "retry-after-ms" trailing metadata.
//
//   absl::Status s = MakeRejection(absl::StatusCode::kInvalidArgument, "bad_ping_id",
//                                  "ping_id must be 16 bytes, got 3");
//   RejectionReason(s);   // "bad_ping_id"
//   RetryAfterMs(MakeOverloaded(250, "queue full"));   // 250
#ifndef AGGREGATOR_INGEST_REJECTION_H_
#define AGGREGATOR_INGEST_REJECTION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace pinning::aggregator {

// Payload type URLs used on ingest statuses.
inline constexpr char kRejectionReasonUrl[] = "type.pinning/ingest.reason";
inline constexpr char kRetryAfterMsUrl[] = "type.pinning/ingest.retry_after_ms";

// Reason labels that are not validation failures.
inline constexpr char kReasonOverloaded[] = "overloaded";
inline constexpr char kReasonStorageUnavailable[] = "storage_unavailable";
inline constexpr char kReasonShuttingDown[] = "shutting_down";

// MakeRejection returns a status with `code`, the message "<reason>: <message>" and the reason
// payload. `code` must not be OK.
absl::Status MakeRejection(absl::StatusCode code, absl::string_view reason,
                           absl::string_view message);

// MakeOverloaded returns RESOURCE_EXHAUSTED with reason "overloaded" and a retry hint.
absl::Status MakeOverloaded(int64_t retry_after_ms, absl::string_view message);

// RejectionReason returns the reason label of `status`, or "" when it has none.
std::string RejectionReason(const absl::Status& status);

// RetryAfterMs returns the retry hint of `status`, if any.
std::optional<int64_t> RetryAfterMs(const absl::Status& status);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_INGEST_REJECTION_H_
