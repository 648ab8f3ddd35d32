// ingest_transport.h: the calls the uploader makes to the aggregator (Ingest.Submit,
// Ingest.SubmitBatch, Params.Get), behind an interface so tests can inject failures.
//
// GrpcIngestTransport (grpc_ingest_transport.h) is the real one: gRPC over TLS with a deadline on
// every call. Tests use a scripted fake, or wrap the real one to lose responses.
//
//   SubmitOutcome outcome = transport->Submit(ping, absl::Seconds(10));
//   if (outcome.status.code() == absl::StatusCode::kResourceExhausted && outcome.retry_after)
//     clock->SleepFor(*outcome.retry_after);
//
// Thread safety: implementations must be thread-safe (one transport serves many profiles).
#ifndef CLIENT_UPLOAD_INGEST_TRANSPORT_H_
#define CLIENT_UPLOAD_INGEST_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "proto/params.pb.h"
#include "proto/ping.pb.h"

namespace pinning::client {

// The trailing-metadata key of the aggregator's load-shedding hint, in milliseconds.
inline constexpr char kRetryAfterMsKey[] = "retry-after-ms";

// The most rejections a SubmitBatch response lists (proto/ping.proto); a batch of at most this many
// pings therefore says exactly which pings were refused.
inline constexpr size_t kMaxListedRejections = 100;

struct SubmitOutcome {
  // OK when the ping is acknowledged (durably counted, or already counted before).
  absl::Status status;
  // True when the aggregator had already counted this ping id.
  bool duplicate = false;
  // The `retry-after-ms` trailing metadata, when present and well-formed.
  std::optional<absl::Duration> retry_after;
};

struct BatchRejection {
  size_t index = 0;  // position in the batch
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string reason;
  std::string message;
};

struct BatchOutcome {
  // Status of the stream. When not OK, nothing is known about the batch's pings: they may or may
  // not have been counted, so the whole batch is retried (exactly-once makes that safe).
  absl::Status status;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
  std::vector<BatchRejection> rejections;
  std::optional<absl::Duration> retry_after;
};

struct ParamsOutcome {
  absl::Status status;
  v1::GetParamsResponse response;
  std::optional<absl::Duration> retry_after;
};

class IngestTransport {
 public:
  virtual ~IngestTransport() = default;

  // Submit sends one ping with deadline now + `timeout`.
  virtual SubmitOutcome Submit(const v1::Ping& ping, absl::Duration timeout) = 0;

  // SubmitBatch streams `pings` in order and returns the aggregator's summary.
  virtual BatchOutcome SubmitBatch(absl::Span<const v1::Ping> pings, absl::Duration timeout) = 0;

  // GetParams asks for the current parameters; the catalog is omitted from the response when it
  // is `known_catalog_version`.
  virtual ParamsOutcome GetParams(absl::string_view known_catalog_version,
                                  absl::Duration timeout) = 0;
};

// ParseRetryAfterMs parses a `retry-after-ms` value (decimal, 0 <= value <= 86400000); nullopt
// when malformed or out of range.
std::optional<absl::Duration> ParseRetryAfterMs(absl::string_view value);

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_INGEST_TRANSPORT_H_
