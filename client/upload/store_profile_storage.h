// store_profile_storage.h: ProfileStorage over the client store, one crash-safe file per profile.
//
// The client store (client/client_store.h) keeps the secret, the pending pings, the privacy
// ledger and the daily state in one checksummed 0600 file, written atomically. Its pending pings
// and ledger are saved as soon as they change; Commit() adds the daily state and saves. A browser
// restarted after a crash or an offline week finds its pending pings, its ledger and its daily
// state (so it never encodes a day twice) where it left them.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<StoreProfileStorage> storage,
//                    StoreProfileStorage::Open(profile_dir + "/pinning.store", {}));
//   ASSIGN_OR_RETURN(auto profile, ClientProfile::Create(options, std::move(storage), now));
//
// Thread safety: as ClientStore (thread-safe); a profile uses it from one thread at a time.
#ifndef CLIENT_UPLOAD_STORE_PROFILE_STORAGE_H_
#define CLIENT_UPLOAD_STORE_PROFILE_STORAGE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/client_store.h"
#include "client/upload/profile_storage.h"

namespace pinning::client {

class StoreProfileStorage final : public ProfileStorage {
 public:
  // Open opens (or creates) the store at `path`; errors as ClientStore::Open.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StoreProfileStorage>> Open(
      std::string path, ClientStoreOptions options);

  ProfileSecret secret() const override { return store_->secret(); }
  PendingPings& pending() override { return *store_; }
  PrivacyLedger& ledger() override { return *store_; }
  std::optional<DailyState::Snapshot> LoadDailyState() const override {
    return store_->daily_state();
  }
  void StageDailyState(DailyState& daily_state) override {
    store_->SetDailyState(daily_state.GetSnapshot());
  }
  // Commit saves the daily state (and everything else) atomically.
  absl::Status Commit(DailyState& daily_state) override;

  ClientStore& store() { return *store_; }

 private:
  explicit StoreProfileStorage(std::unique_ptr<ClientStore> store) : store_(std::move(store)) {}
  std::unique_ptr<ClientStore> store_;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_STORE_PROFILE_STORAGE_H_
