#include "client/upload/privacy_ledger.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pinning::client {

double EpsilonSpent(const LedgerEntry& entry) {
  if (entry.pings <= 0) return 0;
  // n·ε1 with ε1 = +inf is +inf; 0·inf cannot occur since pings > 0.
  const double composed = static_cast<double>(entry.pings) * entry.epsilon_one;
  return std::min(composed, entry.epsilon_inf);
}

double LifetimeEpsilon(absl::Span<const LedgerEntry> entries) {
  double total = 0;
  for (const LedgerEntry& entry : entries) total += EpsilonSpent(entry);
  return total;
}

double LifetimeAfterPing(absl::Span<const LedgerEntry> entries, uint32_t params_version,
                         double epsilon_one, double epsilon_inf) {
  double total = 0;
  bool found = false;
  for (LedgerEntry entry : entries) {
    if (entry.params_version == params_version) {
      found = true;
      entry.epsilon_one = epsilon_one;
      entry.epsilon_inf = epsilon_inf;
      ++entry.pings;
    }
    total += EpsilonSpent(entry);
  }
  if (!found) {
    total += EpsilonSpent({.params_version = params_version,
                           .epsilon_one = epsilon_one,
                           .epsilon_inf = epsilon_inf,
                           .pings = 1});
  }
  return total;
}

double PrivacyLedger::LifetimeEpsilon() const {
  return client::LifetimeEpsilon(Entries());
}

double PrivacyLedger::LifetimeAfterPing(uint32_t params_version, double epsilon_one,
                                        double epsilon_inf) const {
  return client::LifetimeAfterPing(Entries(), params_version, epsilon_one, epsilon_inf);
}

absl::Status InMemoryPrivacyLedger::RecordPing(uint32_t params_version, double epsilon_one,
                                               double epsilon_inf) {
  for (LedgerEntry& entry : entries_) {
    if (entry.params_version == params_version) {
      entry.epsilon_one = epsilon_one;
      entry.epsilon_inf = epsilon_inf;
      ++entry.pings;
      return absl::OkStatus();
    }
  }
  entries_.push_back({.params_version = params_version,
                      .epsilon_one = epsilon_one,
                      .epsilon_inf = epsilon_inf,
                      .pings = 1});
  return absl::OkStatus();
}

absl::Status InMemoryPrivacyLedger::RecordRefusal(const ParamsRefusal& refusal) {
  ++refusals_;
  if (recent_refusals_.size() >= kKeptRefusals) recent_refusals_.erase(recent_refusals_.begin());
  recent_refusals_.push_back(refusal);
  return absl::OkStatus();
}

}  // namespace pinning::client
