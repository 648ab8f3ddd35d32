#include "client/upload/pending_pings.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace pinning::client {

InMemoryPendingPings::InMemoryPendingPings(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)) {}

absl::Status InMemoryPendingPings::Append(const v1::Ping& ping) {
  if (ping.ping_id().size() != 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("ping_id must be 16 bytes, got ", ping.ping_id().size()));
  }
  std::string bytes;
  if (!ping.SerializeToString(&bytes)) return absl::InternalError("cannot serialize ping");
  if (pings_.size() >= capacity_) {
    const size_t drop = pings_.size() - capacity_ + 1;
    pings_.erase(pings_.begin(), pings_.begin() + static_cast<std::ptrdiff_t>(drop));
    dropped_overflow_ += drop;
  }
  pings_.push_back(std::move(bytes));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Ping>> InMemoryPendingPings::Oldest(size_t n) const {
  std::vector<v1::Ping> out;
  out.reserve(std::min(n, pings_.size()));
  for (size_t i = 0; i < pings_.size() && out.size() < n; ++i) {
    v1::Ping ping;
    if (!ping.ParseFromString(pings_[i])) return absl::DataLossError("corrupt pending ping");
    out.push_back(std::move(ping));
  }
  return out;
}

absl::Status InMemoryPendingPings::Remove(absl::Span<const std::string> ping_ids) {
  if (ping_ids.empty() || pings_.empty()) return absl::OkStatus();
  const absl::flat_hash_set<std::string> ids(ping_ids.begin(), ping_ids.end());
  pings_.erase(std::remove_if(pings_.begin(), pings_.end(),
                              [&ids](const std::string& bytes) {
                                v1::Ping ping;
                                // An unparsable entry cannot be matched; Oldest reports it.
                                return ping.ParseFromString(bytes) && ids.contains(ping.ping_id());
                              }),
               pings_.end());
  if (pings_.empty()) pings_.shrink_to_fit();
  return absl::OkStatus();
}

}  // namespace pinning::client
