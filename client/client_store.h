// client_store.h: the profile's persistent client state in one small, crash-safe file.
//
// It holds the 32-byte client secret that keys the memoized PRR (DESIGN §4), the last params
// and catalog versions, the daily state (open day and finished days not yet encoded), pending
// pings (serialized, bounded; the oldest are dropped first and counted) and the privacy ledger
// (epsilon spent per params version and secret, the lifetime total, every secret ever made and
// why, refused parameters). It is the durable implementation of the uploader's PendingPings and
// PrivacyLedger interfaces (client/upload/): their mutations are saved before they return.
//
// File format 1 (all integers little-endian):
//   offset  0: magic "PTCLSTOR" (8 bytes)
//   offset  8: format version, uint32 (1)
//   offset 12: payload length, uint64
//   offset 20: SHA-256 of bytes 0..19 followed by the payload (32 bytes)
//   offset 52: payload: a serialized pinning.client.store.ClientState (client_store.proto)
// Truncation, extension, bit flips and foreign files are detected (DATA_LOSS); a file from a
// newer format version is refused (FAILED_PRECONDITION) and never overwritten.
//
// Durability: Save writes a temporary file, fsyncs it, hard-links the current good file to
// `<path>.bak`, renames the temporary file over `<path>` and fsyncs the directory
// (file_io.h), so a crash leaves the old or the new state, never a mix. Files are 0600.
//
// Recovery never silently re-randomizes memoized responses. Open tries `<path>`, then
// `<path>.bak` (same secret, slightly older state). Only when both are unreadable (or absent: a
// new profile) is a new secret made, and the ledger records why (SecretEvent). With
// `on_unrecoverable = kFail` Open refuses instead. An unreadable file is kept as
// `<path>.corrupt` for diagnosis.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ClientStore> store,
//                    ClientStore::Open(profile_dir + "/pinning.store", {}));
//   // Charge the ledger before queueing, so a crash never leaves an uncharged ping.
//   RETURN_IF_ERROR(store->RecordPing(params_version, epsilon_one, epsilon_inf));  // Charge()s
//   RETURN_IF_ERROR(store->Append(ping));
//   store->SetDailyState(daily_state.GetSnapshot());
//   RETURN_IF_ERROR(store->Save());
//
// Thread safety: all methods may be called concurrently. Only one process may use a store file
// at a time (one browser profile is one process).
#ifndef CLIENT_CLIENT_STORE_H_
#define CLIENT_CLIENT_STORE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/client_store.pb.h"
#include "client/daily_state.h"
#include "client/upload/pending_pings.h"
#include "client/upload/privacy_ledger.h"
#include "proto/ping.pb.h"

namespace pinning::client {

inline constexpr size_t kClientSecretBytes = 32;
using ClientSecret = std::array<uint8_t, kClientSecretBytes>;

// EncodeStoreFile frames `state` in file format 1 (see above).
std::string EncodeStoreFile(const store::ClientState& state);

// DecodeStoreFile checks and parses a store file. Errors: DATA_LOSS for a truncated, extended,
// corrupted or foreign file, or contents that are invalid (secret not 32 bytes, bad daily
// state); FAILED_PRECONDITION for a newer format version.
absl::StatusOr<store::ClientState> DecodeStoreFile(absl::string_view bytes);

struct ClientStoreOptions {
  // Most pending pings kept; adding one more drops the oldest.
  size_t max_pending_pings = 32;
  // Most StoreEvents kept.
  size_t max_events = 16;
  // What Open does when the store and its backup exist but are both unreadable.
  enum class OnUnrecoverable {
    kNewSecret,  // Start over with a new secret; the ledger records SECRET_REASON_STORE_CORRUPTED.
    kFail,       // Return DATA_LOSS and touch nothing.
  };
  OnUnrecoverable on_unrecoverable = OnUnrecoverable::kNewSecret;
  // Time source for event dates.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Passed to WriteFileAtomically (tests stop the process between write and rename).
  std::function<void()> before_rename_for_testing;
};

// How Open found the store.
enum class StoreOpenOutcome {
  kLoaded,               // <path> was valid.
  kCreated,              // No store existed: a new profile with a new secret.
  kRecoveredFromBackup,  // <path> was missing or unreadable; <path>.bak was used.
  kReplacedCorrupt,      // Both unreadable: started over with a new secret (recorded).
};

struct StoreOpenReport {
  StoreOpenOutcome outcome = StoreOpenOutcome::kLoaded;
  // What was wrong with the files, when anything was.
  std::string detail;
};

class ClientStore final : public PendingPings, public PrivacyLedger {
 public:
  // Open loads or creates the store at `path` (see the file comment). A created or recovered
  // store is saved before Open returns, so the secret in use is always durable.
  // Errors: FAILED_PRECONDITION for a newer format; DATA_LOSS under kFail; I/O errors.
  static absl::StatusOr<std::unique_ptr<ClientStore>> Open(std::string path,
                                                           ClientStoreOptions options);

  ~ClientStore() override;
  ClientStore(const ClientStore&) = delete;
  ClientStore& operator=(const ClientStore&) = delete;

  const StoreOpenReport& open_report() const { return report_; }

  // secret is the 32-byte client secret. Keep copies short-lived.
  ClientSecret secret() const;
  uint32_t secret_generation() const;

  // ResetSecret makes a new secret at the user's request (clearing telemetry data), drops the
  // daily state and pending pings, records SECRET_REASON_RESET_BY_USER in the ledger and saves.
  // Ledger entries are kept: what was sent stays spent.
  absl::Status ResetSecret(absl::string_view detail);

  // Versions last received from the params service (saved by the next Save).
  void SetVersions(uint32_t params_version, std::string catalog_version);
  uint32_t params_version() const;
  std::string catalog_version() const;

  // The persisted daily state (saved by the next Save), or nullopt before one is stored.
  void SetDailyState(const DailyState::Snapshot& snapshot);
  std::optional<DailyState::Snapshot> daily_state() const;

  // PendingPings, durably: Append and Remove save before returning; on a save error the queue
  // is left as it was. Append requires a 16-byte ping id (INVALID_ARGUMENT otherwise).
  absl::Status Append(const v1::Ping& ping) override;
  absl::StatusOr<std::vector<v1::Ping>> Oldest(size_t n) const override;
  absl::Status Remove(absl::Span<const std::string> ping_ids) override;
  size_t size() const override;
  size_t capacity() const override { return options_.max_pending_pings; }
  uint64_t dropped_overflow() const override;

  // PrivacyLedger, durably. A new secret re-randomizes the memoized PRR, so the marginal cost of
  // a ping depends only on the spending under the current secret: Entries() lists the current
  // secret generation's entries, while LifetimeEpsilon() sums every generation's spending.
  // Errors of Charge: INVALID_ARGUMENT for a NaN or negative epsilon.
  std::vector<LedgerEntry> Entries() const override;
  absl::Status Charge(uint32_t params_version, double epsilon) override;
  absl::Status RecordRefusal(const ParamsRefusal& refusal) override;
  uint64_t refusals() const override;
  double LifetimeEpsilon() const override;

  // ledger is the whole stored ledger (secret events, history_lost, recent refusals).
  store::PrivacyLedger ledger() const;

  // events are the store's recovery events, oldest first.
  std::vector<store::StoreEvent> events() const;

  // Save writes the state to disk atomically. Errors: I/O errors; the in-memory state is kept.
  absl::Status Save();

  const std::string& path() const { return path_; }

  // The most recent refusals kept in the ledger (older ones are only counted).
  static constexpr int kKeptRefusals = 8;

 private:
  ClientStore(std::string path, ClientStoreOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}
  absl::Status NewSecretLocked(store::SecretReason reason, absl::string_view detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddEventLocked(std::string description) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string TodayLocked() const;
  absl::Status SaveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Saves after a mutation; on failure restores `before`.
  absl::Status SaveOrRollBackLocked(store::ClientState before) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const ClientStoreOptions options_;
  StoreOpenReport report_;
  mutable absl::Mutex mu_;
  store::ClientState state_ ABSL_GUARDED_BY(mu_);
  // Whether the file at path_ is known to hold a valid store (only then is it kept as backup).
  bool file_valid_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pinning::client

#endif  // CLIENT_CLIENT_STORE_H_
