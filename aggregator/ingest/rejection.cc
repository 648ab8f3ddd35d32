#include "aggregator/ingest/rejection.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pinning::aggregator {

absl::Status MakeRejection(absl::StatusCode code, absl::string_view reason,
                           absl::string_view message) {
  absl::Status status(code, absl::StrCat(reason, ": ", message));
  status.SetPayload(kRejectionReasonUrl, absl::Cord(reason));
  return status;
}

absl::Status MakeOverloaded(int64_t retry_after_ms, absl::string_view message) {
  absl::Status status =
      MakeRejection(absl::StatusCode::kResourceExhausted, kReasonOverloaded,
                    absl::StrCat(message, "; retry after ", retry_after_ms, " ms"));
  status.SetPayload(kRetryAfterMsUrl, absl::Cord(absl::StrCat(retry_after_ms)));
  return status;
}

std::string RejectionReason(const absl::Status& status) {
  auto payload = status.GetPayload(kRejectionReasonUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

std::optional<int64_t> RetryAfterMs(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryAfterMsUrl);
  int64_t ms = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return ms;
}

}  // namespace pinning::aggregator
