// privacy_ledger.h: the client's record of the privacy loss its pings have spent.
//
// Accounting (DESIGN §4). Pings under one params version v share memoized PRR bits (the PRR is
// keyed by the params version), so for a fixed truth n pings cost at most both n·ε1_v (sequential
// composition of n one-ping releases) and ε∞_v (every ping is post-processing of the memoized
// PRR bits):
//   spent_v = min(n_v · ε1_v, ε∞_v),     lifetime = Σ_v spent_v
// (different versions use independent PRRs, so their losses add). Caveat, as for every RAPPOR
// client: a client whose daily truth changes reveals one memoized PRR per distinct truth, so with
// t distinct truths under v the bound is min(n_v·ε1_v, t·ε∞_v); the ledger states the bound for an
// unchanging truth, the longitudinal guarantee the parameters are published with.
//
// The uploader refuses parameters whose next ping would take the lifetime total past the
// configured budget (and keeps the previous ones); the profile does not encode a ping that would.
// Both are recorded here. PrivacyLedger is the interface; the client store implements it durably,
// InMemoryPrivacyLedger for simulations and tests.
//
// Each ping is charged its marginal cost (PingCost), so a version's epsilon_spent is always
// min(n_v·ε1_v, ε∞_v) and the lifetime total is a plain sum, as the client store keeps it.
//
//   InMemoryPrivacyLedger ledger;
//   double after = ledger.LifetimeAfterPing(3, eps1, eps_inf);
//   if (after <= budget) RETURN_IF_ERROR(ledger.RecordPing(3, eps1, eps_inf));
//
// Thread safety: implementations need not be thread-safe.
#ifndef CLIENT_UPLOAD_PRIVACY_LEDGER_H_
#define CLIENT_UPLOAD_PRIVACY_LEDGER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace pinning::client {

// LedgerEntry is the spending under one params version.
struct LedgerEntry {
  uint32_t params_version = 0;
  int64_t pings = 0;         // pings encoded under the version
  double epsilon_spent = 0;  // min(pings · ε1, ε∞) when charged through RecordPing
};

// ParamsRefusal records parameters the client declined, and why.
struct ParamsRefusal {
  uint32_t params_version = 0;
  double epsilon_one = 0;
  double epsilon_inf = 0;
  double lifetime_before = 0;  // lifetime total when refused
  double budget = 0;
  std::string reason;
};

// PingCost returns the marginal loss of one more ping under a version whose spending so far is
// `entry`: min((n+1)·ε1, ε∞) − spent, never negative; 0 once the spending is infinite.
double PingCost(const LedgerEntry& entry, double epsilon_one, double epsilon_inf);

class PrivacyLedger {
 public:
  virtual ~PrivacyLedger() = default;

  // Entries returns the spending per params version.
  virtual std::vector<LedgerEntry> Entries() const = 0;

  // Charge adds one ping costing `epsilon` (>= 0, may be 0) under `params_version`.
  virtual absl::Status Charge(uint32_t params_version, double epsilon) = 0;

  // RecordRefusal records that the client declined parameters.
  virtual absl::Status RecordRefusal(const ParamsRefusal& refusal) = 0;

  // refusals returns how many refusals were recorded, ever.
  virtual uint64_t refusals() const = 0;

  // LifetimeEpsilon returns the sum of epsilon_spent over Entries().
  virtual double LifetimeEpsilon() const;

  // Entry returns the entry of `params_version` (all zero but the version when absent).
  LedgerEntry Entry(uint32_t params_version) const;

  // LifetimeAfterPing returns the lifetime total if one more ping were encoded under
  // `params_version` with these whole-ping epsilons.
  double LifetimeAfterPing(uint32_t params_version, double epsilon_one, double epsilon_inf) const;

  // RecordPing charges one ping its PingCost.
  absl::Status RecordPing(uint32_t params_version, double epsilon_one, double epsilon_inf);
};

// InMemoryPrivacyLedger keeps the entries and the most recent refusals in memory.
class InMemoryPrivacyLedger final : public PrivacyLedger {
 public:
  // The most recent refusals kept (older ones are only counted).
  static constexpr size_t kKeptRefusals = 8;

  std::vector<LedgerEntry> Entries() const override { return entries_; }
  absl::Status Charge(uint32_t params_version, double epsilon) override;
  absl::Status RecordRefusal(const ParamsRefusal& refusal) override;
  uint64_t refusals() const override { return refusals_; }

  // recent_refusals returns up to kKeptRefusals refusals, oldest first.
  const std::vector<ParamsRefusal>& recent_refusals() const { return recent_refusals_; }

 private:
  std::vector<LedgerEntry> entries_;
  std::vector<ParamsRefusal> recent_refusals_;
  uint64_t refusals_ = 0;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_PRIVACY_LEDGER_H_
