#include "client/upload/privacy_ledger.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace pinning::client {

double PingCost(const LedgerEntry& entry, double epsilon_one, double epsilon_inf) {
  if (std::isinf(entry.epsilon_spent)) return 0;
  const double after = std::min(static_cast<double>(entry.pings + 1) * epsilon_one, epsilon_inf);
  return std::max(0.0, after - entry.epsilon_spent);
}

double PrivacyLedger::LifetimeEpsilon() const {
  double total = 0;
  for (const LedgerEntry& entry : Entries()) total += entry.epsilon_spent;
  return total;
}

LedgerEntry PrivacyLedger::Entry(uint32_t params_version) const {
  for (const LedgerEntry& entry : Entries()) {
    if (entry.params_version == params_version) return entry;
  }
  return LedgerEntry{.params_version = params_version};
}

double PrivacyLedger::LifetimeAfterPing(uint32_t params_version, double epsilon_one,
                                        double epsilon_inf) const {
  return LifetimeEpsilon() + PingCost(Entry(params_version), epsilon_one, epsilon_inf);
}

absl::Status PrivacyLedger::RecordPing(uint32_t params_version, double epsilon_one,
                                       double epsilon_inf) {
  return Charge(params_version, PingCost(Entry(params_version), epsilon_one, epsilon_inf));
}

absl::Status InMemoryPrivacyLedger::Charge(uint32_t params_version, double epsilon) {
  if (std::isnan(epsilon) || epsilon < 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot charge epsilon ", epsilon));
  }
  for (LedgerEntry& entry : entries_) {
    if (entry.params_version == params_version) {
      ++entry.pings;
      entry.epsilon_spent += epsilon;
      return absl::OkStatus();
    }
  }
  entries_.push_back({.params_version = params_version, .pings = 1, .epsilon_spent = epsilon});
  return absl::OkStatus();
}

absl::Status InMemoryPrivacyLedger::RecordRefusal(const ParamsRefusal& refusal) {
  ++refusals_;
  if (recent_refusals_.size() >= kKeptRefusals) recent_refusals_.erase(recent_refusals_.begin());
  recent_refusals_.push_back(refusal);
  return absl::OkStatus();
}

}  // namespace pinning::client
