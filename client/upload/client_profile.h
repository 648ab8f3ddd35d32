// client_profile.h: one browser profile's telemetry, end to end on the client.
//
// ClientProfile ties the pieces together (DESIGN §2):
//   TLS chain ──► PinChecker (of the day's catalog) ──► DailyState[pinset]
//   day rollover ──► Encoder (the profile's secret, the params and catalog versions of that day,
//                    a fresh 16-byte ping id) ──► pending pings ──► Uploader ──► aggregator
// A finished day is encoded exactly once: DailyState freezes each day once (also across
// restarts), the frozen day is taken out of the state when it is encoded, and the ping, the
// ledger charge and the new daily state are committed to storage together. A day whose catalog
// has no parameters any more, or whose ping would take the lifetime privacy loss past the
// budget, is not encoded (and counted).
//
// Parameters and catalog come from Params.Get once a UTC day (Uploader::RefreshParams). A new
// catalog takes effect at the next day, so one day's state, and its ping, never mix catalogs;
// until then checks use the day's catalog.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ClientProfile> profile,
//                    ClientProfile::Create(options, std::move(storage), [] { return absl::Now();
//                    }));
//   RETURN_IF_ERROR(profile->Maintain(uploader, *crypto_source, *crypto_source));  // hourly
//   absl::StatusOr<PinCheckResult> r = profile->CheckConnection(host, der_chain);  // per TLS
//   if (r.ok() && r->ShouldBlockConnection()) { /* fail the connection */ }
//
// Thread safety: not thread-safe; call a profile from one thread at a time.
#ifndef CLIENT_UPLOAD_CLIENT_PROFILE_H_
#define CLIENT_UPLOAD_CLIENT_PROFILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "client/daily_state.h"
#include "client/pin_checker.h"
#include "client/upload/active_params.h"
#include "client/upload/profile_storage.h"
#include "client/upload/uploader.h"
#include "privacy/random_source.h"
#include "proto/common.pb.h"

namespace pinning::client {

struct ProfileOptions {
  // Coarse dimensions sent with every ping (product, channel, major version).
  v1::Dimensions dimensions;
};

struct ProfileStats {
  UploadStats upload;
  uint64_t pings_encoded = 0;
  uint64_t days_over_budget = 0;     // finished days not encoded: the budget would be exceeded
  uint64_t days_without_params = 0;  // finished days whose catalog has no parameters here
  uint64_t checks_not_recorded = 0;  // pinned checks made before any parameters were known
};

class ClientProfile {
 public:
  // Create makes a profile over `storage` (restoring its daily state when it has one); `now` is
  // the clock that decides the UTC day. INVALID_ARGUMENT for a null storage or clock.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ClientProfile>> Create(
      ProfileOptions options, std::unique_ptr<ProfileStorage> storage, DailyState::NowFunction now);

  // CheckConnection checks `der_chain` (leaf first) for `host` with the pins of the day's catalog
  // and records a pinned result in the day's state. Before the first parameters are known there
  // is no catalog: the result is kNotPinned. Errors: those of PinChecker::Check.
  absl::StatusOr<PinCheckResult> CheckConnection(absl::string_view host,
                                                 absl::Span<const std::string> der_chain);

  // CheckConnectionHashes is CheckConnection for a chain whose SPKI hashes are already known
  // (PinChecker::CheckHashes), e.g. a chain the caller has seen and hashed before.
  PinCheckResult CheckConnectionHashes(absl::string_view host,
                                       absl::Span<const SpkiHash> chain_spki);

  // EncodeFinishedDays encodes every finished day into a pending ping (see the file comment):
  // IRR noise and pinset subsets from `irr_source`, ping ids from `id_source` (both a
  // CryptoRandomSource in production). `epsilon_budget` bounds the lifetime privacy loss.
  absl::Status EncodeFinishedDays(privacy::RandomSource& irr_source,
                                  privacy::RandomSource& id_source, double epsilon_budget);

  // RefreshParams fetches the parameters through `uploader` and adopts them (a new catalog from
  // the next day on). Errors: those of Uploader::RefreshParams; the profile keeps its parameters.
  absl::StatusOr<ParamsRefresh::Kind> RefreshParams(Uploader& uploader);

  // Flush sends the pending pings through `uploader` and commits the queue.
  absl::Status Flush(Uploader& uploader);

  // Maintain is the periodic task: RefreshParams when it has not succeeded yet this UTC day,
  // EncodeFinishedDays with the uploader's budget, Flush, and Commit. Every step runs even when
  // an earlier one failed (offline: pings stay pending); returns the first error.
  absl::Status Maintain(Uploader& uploader, privacy::RandomSource& irr_source,
                        privacy::RandomSource& id_source);

  // Commit makes the state durable (ProfileStorage::Commit).
  absl::Status Commit();

  // params returns the newest adopted parameters (null before the first).
  const std::shared_ptr<const ActiveParams>& params() const { return current_; }
  const ProfileStats& stats() const { return stats_; }
  ProfileStorage& storage() { return *storage_; }

 private:
  ClientProfile(ProfileOptions options, std::unique_ptr<ProfileStorage> storage,
                DailyState::NowFunction now);
  // Check runs `check` with the checker of the open day's catalog and records a pinned result
  // (falling back to the other catalog when the day turns out to use it).
  absl::StatusOr<PinCheckResult> Check(
      absl::FunctionRef<absl::StatusOr<PinCheckResult>(const PinChecker&)> check);
  // ParamsForCatalog returns current_ or previous_ when its catalog is `catalog_version`.
  const ActiveParams* ParamsForCatalog(absl::string_view catalog_version) const;
  // OpenDayCatalog returns the catalog version of the open day.
  const std::string& OpenDayCatalog();
  absl::Status Adopt(std::shared_ptr<const ActiveParams> next);

  ProfileOptions options_;
  std::unique_ptr<ProfileStorage> storage_;
  DailyState::NowFunction now_;
  std::unique_ptr<DailyState> daily_state_;  // null until the first parameters
  // The newest parameters, and the ones before them when their catalog differs (the open day
  // may still use that catalog, and its finished day still needs them).
  std::shared_ptr<const ActiveParams> current_;
  std::shared_ptr<const ActiveParams> previous_;
  // The open day's catalog, and the catalog set for the day after `second` (DailyState switches
  // at its next rollover).
  std::string open_catalog_;
  std::optional<std::pair<std::string, absl::CivilDay>> next_catalog_;
  std::optional<absl::CivilDay> last_refresh_day_;
  std::optional<absl::CivilDay> last_encoded_day_;
  ProfileStats stats_;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_CLIENT_PROFILE_H_
