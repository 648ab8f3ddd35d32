#include "client/upload/ingest_transport.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace pinning::client {

std::optional<absl::Duration> ParseRetryAfterMs(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  for (char c : value) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t ms = 0;
  if (!absl::SimpleAtoi(value, &ms) || ms < 0 || ms > 86400000) return std::nullopt;
  return absl::Milliseconds(ms);
}

}  // namespace pinning::client
