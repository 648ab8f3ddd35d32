#include "client/client_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "client/file_io.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {
namespace {

constexpr char kMagic[8] = {'P', 'T', 'C', 'L', 'S', 'T', 'O', 'R'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 8 + 32;

void AppendLittleEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t ReadLittleEndian(absl::string_view data, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<uint8_t>(data[offset + i]);
  }
  return value;
}

// SHA-256 of header_prefix || payload.
std::string Checksum(absl::string_view header_prefix, absl::string_view payload) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), header_prefix.data(), header_prefix.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), payload.data(), payload.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) {
    return std::string();  // Never equal to a stored 32-byte checksum.
  }
  return std::string(reinterpret_cast<char*>(digest), size);
}

std::string DayString(absl::CivilDay day) { return absl::FormatCivilTime(day); }

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day) || DayString(day) != text) {
    return absl::DataLossError(absl::StrCat("bad day \"", text, "\" in the store"));
  }
  return day;
}

store::StoredDay ToStoredDay(absl::CivilDay day, const std::string& catalog_version,
                             const std::vector<privacy::PinsetState>& states) {
  store::StoredDay out;
  out.set_day(DayString(day));
  out.set_catalog_version(catalog_version);
  std::string bytes;
  bytes.reserve(states.size());
  for (privacy::PinsetState s : states) bytes.push_back(static_cast<char>(s));
  out.set_states(std::move(bytes));
  return out;
}

absl::StatusOr<FinishedDay> FromStoredDay(const store::StoredDay& stored) {
  FinishedDay out;
  ASSIGN_OR_RETURN(out.day, ParseDay(stored.day()));
  out.catalog_version = stored.catalog_version();
  for (char c : stored.states()) {
    const auto state = static_cast<privacy::PinsetState>(static_cast<uint8_t>(c));
    if (!privacy::IsValidState(state)) return absl::DataLossError("bad pinset state in the store");
    out.states.push_back(state);
  }
  return out;
}

store::StoredDailyState ToStored(const DailyState::Snapshot& s) {
  store::StoredDailyState out;
  *out.mutable_open_day() = ToStoredDay(s.day, s.catalog_version, s.states);
  if (s.last_frozen_day.has_value()) out.set_last_frozen_day(DayString(*s.last_frozen_day));
  for (const FinishedDay& d : s.finished_days) {
    *out.add_finished_days() = ToStoredDay(d.day, d.catalog_version, d.states);
  }
  if (s.next_catalog.has_value()) {
    out.set_next_catalog_version(s.next_catalog->first);
    out.set_next_catalog_pinsets(s.next_catalog->second);
  }
  out.set_dropped_days(s.dropped_days);
  return out;
}

absl::StatusOr<DailyState::Snapshot> FromStored(const store::StoredDailyState& stored) {
  DailyState::Snapshot s;
  ASSIGN_OR_RETURN(FinishedDay open, FromStoredDay(stored.open_day()));
  s.day = open.day;
  s.catalog_version = std::move(open.catalog_version);
  s.states = std::move(open.states);
  if (!stored.last_frozen_day().empty()) {
    ASSIGN_OR_RETURN(s.last_frozen_day, ParseDay(stored.last_frozen_day()));
  }
  for (const store::StoredDay& d : stored.finished_days()) {
    ASSIGN_OR_RETURN(FinishedDay day, FromStoredDay(d));
    s.finished_days.push_back(std::move(day));
  }
  if (!stored.next_catalog_version().empty()) {
    s.next_catalog = std::make_pair(stored.next_catalog_version(),
                                    static_cast<int>(stored.next_catalog_pinsets()));
  }
  s.dropped_days = stored.dropped_days();
  return s;
}

void Cleanse(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
}

}  // namespace

std::string EncodeStoreFile(const store::ClientState& state) {
  std::string payload;
  state.SerializeToString(&payload);
  std::string out(kMagic, sizeof(kMagic));
  AppendLittleEndian(kFormatVersion, 4, &out);
  AppendLittleEndian(payload.size(), 8, &out);
  out += Checksum(out, payload);
  out += payload;
  Cleanse(&payload);
  return out;
}

absl::StatusOr<store::ClientState> DecodeStoreFile(absl::string_view bytes) {
  if (bytes.size() < kHeaderSize) {
    return absl::DataLossError(absl::StrCat("store truncated: ", bytes.size(), " bytes, the ",
                                            "header alone has ", kHeaderSize));
  }
  if (bytes.substr(0, sizeof(kMagic)) != absl::string_view(kMagic, sizeof(kMagic))) {
    return absl::DataLossError("not a client store file (bad magic)");
  }
  const uint64_t version = ReadLittleEndian(bytes, 8, 4);
  if (version > kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store format ", version, " is newer than this client's (", kFormatVersion, ")"));
  }
  if (version == 0) return absl::DataLossError("store format version 0");
  const uint64_t length = ReadLittleEndian(bytes, 12, 8);
  if (length != bytes.size() - kHeaderSize) {
    return absl::DataLossError(absl::StrCat("store length mismatch: header says ", length,
                                            " payload bytes, file has ",
                                            bytes.size() - kHeaderSize));
  }
  const absl::string_view payload = bytes.substr(kHeaderSize);
  if (Checksum(bytes.substr(0, 20), payload) != bytes.substr(20, 32)) {
    return absl::DataLossError("store checksum mismatch");
  }
  store::ClientState state;
  if (!state.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError("store payload does not parse");
  }
  if (state.secret().size() != kClientSecretBytes) {
    return absl::DataLossError(absl::StrCat("store secret has ", state.secret().size(),
                                            " bytes, not ", kClientSecretBytes));
  }
  if (state.has_daily_state()) {
    absl::StatusOr<DailyState::Snapshot> daily = FromStored(state.daily_state());
    if (!daily.ok()) return daily.status();
  }
  return state;
}

absl::StatusOr<std::unique_ptr<ClientStore>> ClientStore::Open(std::string path,
                                                               ClientStoreOptions options) {
  std::unique_ptr<ClientStore> store(new ClientStore(std::move(path), std::move(options)));
  absl::MutexLock lock(&store->mu_);
  const std::string backup = store->path_ + ".bak";

  // Reads and decodes one candidate file; NOT_FOUND when it does not exist.
  auto load = [](const std::string& file) -> absl::StatusOr<store::ClientState> {
    ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(file));
    absl::StatusOr<store::ClientState> state = DecodeStoreFile(bytes);
    Cleanse(&bytes);
    return state;
  };

  absl::StatusOr<store::ClientState> main = load(store->path_);
  if (main.ok()) {
    store->state_ = *std::move(main);
    store->file_valid_ = true;
    store->report_ = {StoreOpenOutcome::kLoaded, ""};
    return store;
  }
  if (absl::IsFailedPrecondition(main.status())) return main.status();
  if (!absl::IsNotFound(main.status()) && !absl::IsDataLoss(main.status())) {
    return main.status();  // An I/O error: do not guess.
  }

  absl::StatusOr<store::ClientState> from_backup = load(backup);
  if (absl::IsFailedPrecondition(from_backup.status())) return from_backup.status();
  const std::string detail =
      absl::StrCat(store->path_, ": ", main.status().message(), "; ", backup, ": ",
                   from_backup.ok() ? "valid" : from_backup.status().message());
  const bool main_corrupt = absl::IsDataLoss(main.status());
  if (from_backup.ok()) {
    store->state_ = *std::move(from_backup);
    store->report_ = {StoreOpenOutcome::kRecoveredFromBackup, detail};
    store->AddEventLocked(absl::StrCat("recovered from backup (same secret): ", detail));
  } else if (!absl::IsNotFound(from_backup.status()) && !absl::IsDataLoss(from_backup.status())) {
    return from_backup.status();
  } else if (!main_corrupt && absl::IsNotFound(from_backup.status())) {
    store->report_ = {StoreOpenOutcome::kCreated, ""};
    RETURN_IF_ERROR(store->NewSecretLocked(store::SECRET_REASON_NEW_PROFILE, "new profile"));
  } else {
    if (store->options_.on_unrecoverable == ClientStoreOptions::OnUnrecoverable::kFail) {
      return absl::DataLossError(absl::StrCat("client store unrecoverable: ", detail));
    }
    store->report_ = {StoreOpenOutcome::kReplacedCorrupt, detail};
    store->state_.mutable_ledger()->set_history_lost(true);
    RETURN_IF_ERROR(store->NewSecretLocked(store::SECRET_REASON_STORE_CORRUPTED, detail));
    store->AddEventLocked(absl::StrCat("store and backup unreadable, new secret: ", detail));
  }
  if (main_corrupt) {
    // Keep the unreadable file for diagnosis; it must never become the backup.
    if (rename(store->path_.c_str(), (store->path_ + ".corrupt").c_str()) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot move aside ", store->path_));
    }
  }
  RETURN_IF_ERROR(store->SaveLocked());
  return store;
}

ClientStore::~ClientStore() {
  absl::MutexLock lock(&mu_);
  Cleanse(state_.mutable_secret());
}

std::string ClientStore::TodayLocked() const { return DayString(ToUtcDay(options_.now())); }

absl::Status ClientStore::NewSecretLocked(store::SecretReason reason, absl::string_view detail) {
  std::string secret(kClientSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), secret.size()) != 1) {
    return absl::InternalError("RAND_bytes failed: no client secret");
  }
  Cleanse(state_.mutable_secret());
  state_.set_secret(std::move(secret));
  state_.set_secret_generation(state_.secret_generation() + 1);
  store::SecretEvent* event = state_.mutable_ledger()->add_secret_events();
  event->set_generation(state_.secret_generation());
  event->set_reason(reason);
  event->set_detail(std::string(detail));
  event->set_day(TodayLocked());
  return absl::OkStatus();
}

void ClientStore::AddEventLocked(std::string description) {
  store::StoreEvent* event = state_.add_events();
  event->set_day(TodayLocked());
  event->set_description(std::move(description));
  while (static_cast<size_t>(state_.events_size()) > options_.max_events) {
    state_.mutable_events()->erase(state_.mutable_events()->begin());
  }
}

ClientSecret ClientStore::secret() const {
  absl::MutexLock lock(&mu_);
  ClientSecret out;
  std::memcpy(out.data(), state_.secret().data(), out.size());
  return out;
}

uint32_t ClientStore::secret_generation() const {
  absl::MutexLock lock(&mu_);
  return state_.secret_generation();
}

absl::Status ClientStore::ResetSecret(absl::string_view detail) {
  absl::MutexLock lock(&mu_);
  store::ClientState before = state_;
  RETURN_IF_ERROR(NewSecretLocked(store::SECRET_REASON_RESET_BY_USER, detail));
  state_.clear_daily_state();
  state_.clear_pending_pings();
  return SaveOrRollBackLocked(std::move(before));
}

void ClientStore::SetVersions(uint32_t params_version, std::string catalog_version) {
  absl::MutexLock lock(&mu_);
  state_.set_params_version(params_version);
  state_.set_catalog_version(std::move(catalog_version));
}

uint32_t ClientStore::params_version() const {
  absl::MutexLock lock(&mu_);
  return state_.params_version();
}

std::string ClientStore::catalog_version() const {
  absl::MutexLock lock(&mu_);
  return state_.catalog_version();
}

void ClientStore::SetDailyState(const DailyState::Snapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  *state_.mutable_daily_state() = ToStored(snapshot);
}

std::optional<DailyState::Snapshot> ClientStore::daily_state() const {
  absl::MutexLock lock(&mu_);
  if (!state_.has_daily_state()) return std::nullopt;
  absl::StatusOr<DailyState::Snapshot> s = FromStored(state_.daily_state());
  if (!s.ok()) return std::nullopt;  // Checked when loaded; cannot happen.
  return *std::move(s);
}

absl::Status ClientStore::SaveOrRollBackLocked(store::ClientState before) {
  absl::Status status = SaveLocked();
  if (!status.ok()) state_.Swap(&before);
  Cleanse(before.mutable_secret());
  return status;
}

absl::Status ClientStore::Append(const v1::Ping& ping) {
  if (ping.ping_id().size() != 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ping id has 16 bytes, not ", ping.ping_id().size()));
  }
  absl::MutexLock lock(&mu_);
  store::ClientState before = state_;
  state_.add_pending_pings(ping.SerializeAsString());
  while (static_cast<size_t>(state_.pending_pings_size()) > options_.max_pending_pings) {
    state_.mutable_pending_pings()->erase(state_.mutable_pending_pings()->begin());
    state_.set_dropped_pings(state_.dropped_pings() + 1);
  }
  return SaveOrRollBackLocked(std::move(before));
}

absl::StatusOr<std::vector<v1::Ping>> ClientStore::Oldest(size_t n) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Ping> out;
  for (const std::string& bytes : state_.pending_pings()) {
    if (out.size() >= n) break;
    v1::Ping ping;
    if (!ping.ParseFromString(bytes)) {
      return absl::DataLossError("a pending ping in the store does not parse");
    }
    out.push_back(std::move(ping));
  }
  return out;
}

absl::Status ClientStore::Remove(absl::Span<const std::string> ping_ids) {
  absl::MutexLock lock(&mu_);
  store::ClientState before = state_;
  auto* pings = state_.mutable_pending_pings();
  const auto removed = [&](const std::string& bytes) {
    v1::Ping ping;
    return ping.ParseFromString(bytes) &&
           std::find(ping_ids.begin(), ping_ids.end(), ping.ping_id()) != ping_ids.end();
  };
  pings->erase(std::remove_if(pings->begin(), pings->end(), removed), pings->end());
  if (pings->size() == before.pending_pings_size()) {
    Cleanse(before.mutable_secret());
    return absl::OkStatus();  // Nothing to save.
  }
  return SaveOrRollBackLocked(std::move(before));
}

size_t ClientStore::size() const {
  absl::MutexLock lock(&mu_);
  return state_.pending_pings_size();
}

uint64_t ClientStore::dropped_overflow() const {
  absl::MutexLock lock(&mu_);
  return state_.dropped_pings();
}

std::vector<LedgerEntry> ClientStore::Entries() const {
  absl::MutexLock lock(&mu_);
  std::vector<LedgerEntry> out;
  for (const store::LedgerEntry& e : state_.ledger().entries()) {
    if (e.secret_generation() != state_.secret_generation()) continue;
    out.push_back({.params_version = e.params_version(),
                   .pings = static_cast<int64_t>(e.pings()),
                   .epsilon_spent = e.epsilon_spent()});
  }
  return out;
}

double ClientStore::LifetimeEpsilon() const {
  absl::MutexLock lock(&mu_);
  return state_.ledger().lifetime_epsilon();
}

absl::Status ClientStore::Charge(uint32_t params_version, double epsilon) {
  if (std::isnan(epsilon) || epsilon < 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot charge epsilon ", epsilon));
  }
  absl::MutexLock lock(&mu_);
  store::ClientState before = state_;
  store::PrivacyLedger* ledger = state_.mutable_ledger();
  store::LedgerEntry* entry = nullptr;
  for (store::LedgerEntry& e : *ledger->mutable_entries()) {
    if (e.params_version() == params_version &&
        e.secret_generation() == state_.secret_generation()) {
      entry = &e;
    }
  }
  if (entry == nullptr) {
    entry = ledger->add_entries();
    entry->set_params_version(params_version);
    entry->set_secret_generation(state_.secret_generation());
  }
  entry->set_pings(entry->pings() + 1);
  entry->set_epsilon_spent(entry->epsilon_spent() + epsilon);
  ledger->set_lifetime_epsilon(ledger->lifetime_epsilon() + epsilon);
  return SaveOrRollBackLocked(std::move(before));
}

absl::Status ClientStore::RecordRefusal(const ParamsRefusal& refusal) {
  absl::MutexLock lock(&mu_);
  store::ClientState before = state_;
  store::PrivacyLedger* ledger = state_.mutable_ledger();
  ledger->set_refusals(ledger->refusals() + 1);
  store::StoredRefusal* stored = ledger->add_recent_refusals();
  stored->set_params_version(refusal.params_version);
  stored->set_epsilon_one(refusal.epsilon_one);
  stored->set_epsilon_inf(refusal.epsilon_inf);
  stored->set_lifetime_before(refusal.lifetime_before);
  stored->set_budget(refusal.budget);
  stored->set_reason(refusal.reason);
  while (ledger->recent_refusals_size() > kKeptRefusals) {
    ledger->mutable_recent_refusals()->erase(ledger->mutable_recent_refusals()->begin());
  }
  return SaveOrRollBackLocked(std::move(before));
}

uint64_t ClientStore::refusals() const {
  absl::MutexLock lock(&mu_);
  return state_.ledger().refusals();
}

store::PrivacyLedger ClientStore::ledger() const {
  absl::MutexLock lock(&mu_);
  return state_.ledger();
}

std::vector<store::StoreEvent> ClientStore::events() const {
  absl::MutexLock lock(&mu_);
  return {state_.events().begin(), state_.events().end()};
}

absl::Status ClientStore::Save() {
  absl::MutexLock lock(&mu_);
  return SaveLocked();
}

absl::Status ClientStore::SaveLocked() {
  std::string bytes = EncodeStoreFile(state_);
  AtomicWriteOptions write_options;
  write_options.mode = 0600;
  if (file_valid_) write_options.backup_path = path_ + ".bak";
  write_options.before_rename_for_testing = options_.before_rename_for_testing;
  absl::Status status = WriteFileAtomically(path_, bytes, write_options);
  Cleanse(&bytes);
  if (status.ok()) file_valid_ = true;
  return status;
}

}  // namespace pinning::client
