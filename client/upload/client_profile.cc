#include "client/upload/client_profile.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "privacy/encoder.h"
#include "privacy/report_bits.h"

namespace pinning::client {

absl::StatusOr<std::unique_ptr<ClientProfile>> ClientProfile::Create(
    ProfileOptions options, std::unique_ptr<ProfileStorage> storage, DailyState::NowFunction now) {
  if (storage == nullptr || now == nullptr) {
    return absl::InvalidArgumentError("a profile needs a storage and a clock");
  }
  std::unique_ptr<ClientProfile> profile(
      new ClientProfile(std::move(options), std::move(storage), std::move(now)));
  if (std::optional<DailyState::Snapshot> saved = profile->storage_->LoadDailyState();
      saved.has_value()) {
    std::string catalog = saved->catalog_version;
    if (saved->next_catalog.has_value()) {
      profile->next_catalog_ = std::make_pair(saved->next_catalog->first, saved->day);
    }
    absl::StatusOr<std::unique_ptr<DailyState>> restored =
        DailyState::Restore(*std::move(saved), profile->now_);
    if (!restored.ok()) return restored.status();
    profile->daily_state_ = *std::move(restored);
    profile->open_catalog_ = std::move(catalog);
  }
  return profile;
}

ClientProfile::ClientProfile(ProfileOptions options, std::unique_ptr<ProfileStorage> storage,
                             DailyState::NowFunction now)
    : options_(std::move(options)), storage_(std::move(storage)), now_(std::move(now)) {}

const ActiveParams* ClientProfile::ParamsForCatalog(absl::string_view catalog_version) const {
  if (current_ != nullptr && current_->catalog_version() == catalog_version) return current_.get();
  if (previous_ != nullptr && previous_->catalog_version() == catalog_version) {
    return previous_.get();
  }
  return nullptr;
}

const std::string& ClientProfile::OpenDayCatalog() {
  // DailyState switches to the next catalog at its first rollover after SetNextCatalog, i.e. once
  // the UTC day is later than the day it was set on.
  if (next_catalog_.has_value() && ToUtcDay(now_()) > next_catalog_->second) {
    open_catalog_ = std::move(next_catalog_->first);
    next_catalog_.reset();
  }
  return open_catalog_;
}

absl::StatusOr<PinCheckResult> ClientProfile::Check(
    absl::FunctionRef<absl::StatusOr<PinCheckResult>(const PinChecker&)> check) {
  if (daily_state_ == nullptr) return PinCheckResult{};
  const ActiveParams* first = ParamsForCatalog(OpenDayCatalog());
  const ActiveParams* second = first == current_.get() ? previous_.get() : current_.get();
  for (const ActiveParams* params : {first, second}) {
    if (params == nullptr) continue;
    absl::StatusOr<PinCheckResult> result = check(params->checker());
    if (!result.ok() || !result->pinned()) return result;
    const absl::Status recorded =
        daily_state_->Record(params->catalog_version(), result->pinset_index, result->violated());
    // FAILED_PRECONDITION: the day uses the other catalog (the clock moved unexpectedly).
    if (recorded.code() != absl::StatusCode::kFailedPrecondition) {
      if (!recorded.ok()) return recorded;
      return result;
    }
  }
  ++stats_.checks_not_recorded;
  return PinCheckResult{};
}

absl::StatusOr<PinCheckResult> ClientProfile::CheckConnection(
    absl::string_view host, absl::Span<const std::string> der_chain) {
  return Check([&](const PinChecker& checker) { return checker.Check(host, der_chain); });
}

PinCheckResult ClientProfile::CheckConnectionHashes(absl::string_view host,
                                                    absl::Span<const SpkiHash> chain_spki) {
  absl::StatusOr<PinCheckResult> result =
      Check([&](const PinChecker& checker) -> absl::StatusOr<PinCheckResult> {
        return checker.CheckHashes(host, chain_spki);
      });
  return result.ok() ? *result : PinCheckResult{};
}

absl::Status ClientProfile::EncodeFinishedDays(privacy::RandomSource& irr_source,
                                               privacy::RandomSource& id_source,
                                               double epsilon_budget) {
  if (daily_state_ == nullptr) return absl::OkStatus();
  absl::Status first_error = absl::OkStatus();
  std::vector<FinishedDay> finished = daily_state_->TakeFinishedDays();
  if (finished.empty()) return first_error;
  // The state without these days is saved with the first charge below: a crash after it loses
  // at most their pings, and never encodes a day twice.
  storage_->StageDailyState(*daily_state_);
  for (FinishedDay& day : finished) {
    if (last_encoded_day_.has_value() && day.day <= *last_encoded_day_) continue;  // never twice
    const ActiveParams* params = ParamsForCatalog(day.catalog_version);
    if (params == nullptr || static_cast<int>(day.states.size()) != params->num_pinsets()) {
      ++stats_.days_without_params;
      continue;
    }
    PrivacyLedger& ledger = storage_->ledger();
    if (ledger.LifetimeAfterPing(params->version(), params->epsilon_one(), params->epsilon_inf()) >
        epsilon_budget) {
      ++stats_.days_over_budget;
      continue;
    }
    const ProfileSecret secret = storage_->secret();
    absl::StatusOr<privacy::Encoder> encoder =
        privacy::Encoder::Create(params->EncoderConfig(), secret, &irr_source);
    if (!encoder.ok()) {
      if (first_error.ok()) first_error = encoder.status();
      continue;
    }
    absl::StatusOr<privacy::EncodedReport> report = encoder->Encode(day.states);
    if (!report.ok()) {
      if (first_error.ok()) first_error = report.status();
      continue;
    }
    v1::Ping ping;
    std::string id(16, '\0');
    id_source.FillBytes(absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(id.data()), id.size()));
    ping.set_ping_id(std::move(id));
    ping.set_day(absl::FormatCivilTime(day.day));
    ping.set_params_version(params->version());
    ping.set_catalog_version(params->catalog_version());
    for (uint32_t index : report->pinset_indices) ping.add_pinset_indices(index);
    ping.set_bits(std::string(report->bits.begin(), report->bits.end()));
    *ping.mutable_dimensions() = options_.dimensions;
    // Charge first: a failure after it over-counts the loss, never under-counts it.
    if (absl::Status charged =
            ledger.RecordPing(params->version(), params->epsilon_one(), params->epsilon_inf());
        !charged.ok()) {
      if (first_error.ok()) first_error = charged;
      continue;
    }
    last_encoded_day_ = day.day;
    if (absl::Status added = storage_->pending().Append(ping); !added.ok()) {
      if (first_error.ok()) first_error = added;
      continue;
    }
    ++stats_.pings_encoded;
  }
  return first_error;
}

absl::Status ClientProfile::Adopt(std::shared_ptr<const ActiveParams> next) {
  if (current_ != nullptr && current_->catalog_version() != next->catalog_version()) {
    previous_ = current_;
  }
  current_ = std::move(next);
  if (daily_state_ == nullptr) {
    absl::StatusOr<std::unique_ptr<DailyState>> created =
        DailyState::Create(current_->catalog_version(), current_->num_pinsets(), now_);
    if (!created.ok()) return created.status();
    daily_state_ = *std::move(created);
    open_catalog_ = current_->catalog_version();
    return absl::OkStatus();
  }
  if (OpenDayCatalog() == current_->catalog_version() && !next_catalog_.has_value()) {
    return absl::OkStatus();
  }
  if (absl::Status set =
          daily_state_->SetNextCatalog(current_->catalog_version(), current_->num_pinsets());
      !set.ok()) {
    return set;
  }
  next_catalog_ = std::make_pair(current_->catalog_version(), daily_state_->current_day());
  return absl::OkStatus();
}

absl::StatusOr<ParamsRefresh::Kind> ClientProfile::RefreshParams(Uploader& uploader) {
  absl::StatusOr<ParamsRefresh> refresh =
      uploader.RefreshParams(current_, storage_->ledger(), stats_.upload);
  if (!refresh.ok()) return refresh.status();
  last_refresh_day_ = ToUtcDay(now_());
  if (refresh->kind == ParamsRefresh::Kind::kAdopted) {
    if (absl::Status adopted = Adopt(std::move(refresh->params)); !adopted.ok()) return adopted;
  }
  return refresh->kind;
}

absl::Status ClientProfile::Flush(Uploader& uploader) {
  absl::Status flushed = uploader.Flush(storage_->pending(), stats_.upload);
  absl::Status committed = Commit();
  return flushed.ok() ? committed : flushed;
}

absl::Status ClientProfile::Commit() {
  if (daily_state_ == nullptr) return absl::OkStatus();
  return storage_->Commit(*daily_state_);
}

absl::Status ClientProfile::Maintain(Uploader& uploader, privacy::RandomSource& irr_source,
                                     privacy::RandomSource& id_source) {
  absl::Status first_error = absl::OkStatus();
  // Refresh first: after a restart the profile knows no parameters until it has fetched them,
  // and finished days need them. A new catalog still only applies from the next day on.
  if (!last_refresh_day_.has_value() || *last_refresh_day_ < ToUtcDay(now_())) {
    absl::StatusOr<ParamsRefresh::Kind> refreshed = RefreshParams(uploader);
    if (!refreshed.ok()) first_error = refreshed.status();
  }
  if (absl::Status encoded =
          EncodeFinishedDays(irr_source, id_source, uploader.options().epsilon_budget);
      !encoded.ok() && first_error.ok()) {
    first_error = encoded;
  }
  absl::Status flushed = Flush(uploader);  // commits
  if (!flushed.ok() && first_error.ok()) first_error = flushed;
  return first_error;
}

}  // namespace pinning::client
