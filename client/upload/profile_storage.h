// profile_storage.h: what a browser profile keeps between runs, behind one interface.
//
// A ClientProfile (client_profile.h) needs its 32-byte client secret, its pending pings, its
// privacy ledger and its daily state. The client store (client/client_store.h) keeps them in one
// crash-safe file per profile (see store_profile_storage.h); InMemoryProfileStorage keeps them in
// memory for simulations of many browsers and for tests. Changes to the pending pings and the
// ledger are made in memory and made durable together, with the daily state, by Commit().
//
//   InMemoryProfileStorage storage(secret, /*max_pending_pings=*/32);
//   storage.pending().Append(ping);
//   RETURN_IF_ERROR(storage.Commit(daily_state));
//
// Thread safety: implementations need not be thread-safe; a profile uses its storage from one
// thread at a time.
#ifndef CLIENT_UPLOAD_PROFILE_STORAGE_H_
#define CLIENT_UPLOAD_PROFILE_STORAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "client/daily_state.h"
#include "client/upload/pending_pings.h"
#include "client/upload/privacy_ledger.h"

namespace pinning::client {

// A profile's client secret: 32 bytes from a CSPRNG, never sent (privacy/encoder.h).
using ProfileSecret = std::array<uint8_t, 32>;

class ProfileStorage {
 public:
  virtual ~ProfileStorage() = default;

  // secret returns the profile's client secret (keep copies short-lived).
  virtual ProfileSecret secret() const = 0;

  virtual PendingPings& pending() = 0;
  virtual PrivacyLedger& ledger() = 0;

  // LoadDailyState returns the daily state saved by the last Commit, or nullopt (a new profile,
  // or a storage that does not persist it).
  virtual std::optional<DailyState::Snapshot> LoadDailyState() const = 0;

  // StageDailyState records `daily_state` so that the next durable change (a ledger charge or a
  // queued ping) saves it too. The profile calls it right after taking finished days out of the
  // state, so a saved ping is never saved with a state that would encode its day again.
  virtual void StageDailyState(DailyState& daily_state) {}

  // Commit makes the pending pings, the ledger and `daily_state` durable, atomically.
  virtual absl::Status Commit(DailyState& daily_state) = 0;
};

// InMemoryProfileStorage keeps everything in memory; Commit does nothing. About 200 bytes plus
// the pending pings (~100 bytes each).
class InMemoryProfileStorage final : public ProfileStorage {
 public:
  InMemoryProfileStorage(const ProfileSecret& secret, size_t max_pending_pings)
      : secret_(secret), pending_(max_pending_pings) {}

  ProfileSecret secret() const override { return secret_; }
  PendingPings& pending() override { return pending_; }
  PrivacyLedger& ledger() override { return ledger_; }
  std::optional<DailyState::Snapshot> LoadDailyState() const override { return std::nullopt; }
  absl::Status Commit(DailyState&) override { return absl::OkStatus(); }

  InMemoryPrivacyLedger& in_memory_ledger() { return ledger_; }

 private:
  ProfileSecret secret_;
  InMemoryPendingPings pending_;
  InMemoryPrivacyLedger ledger_;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_PROFILE_STORAGE_H_
