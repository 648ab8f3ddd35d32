#include "client/upload/store_profile_storage.h"

#include <utility>

namespace pinning::client {

absl::StatusOr<std::unique_ptr<StoreProfileStorage>> StoreProfileStorage::Open(
    std::string path, ClientStoreOptions options) {
  absl::StatusOr<std::unique_ptr<ClientStore>> store =
      ClientStore::Open(std::move(path), std::move(options));
  if (!store.ok()) return store.status();
  return std::unique_ptr<StoreProfileStorage>(new StoreProfileStorage(*std::move(store)));
}

absl::Status StoreProfileStorage::Commit(DailyState& daily_state) {
  store_->SetDailyState(daily_state.GetSnapshot());
  return store_->Save();
}

}  // namespace pinning::client
