#include "client/upload/uploader.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pinning::client {

bool IsPermanentRejection(absl::StatusCode code) {
  return code == absl::StatusCode::kInvalidArgument ||
         code == absl::StatusCode::kFailedPrecondition;
}

absl::Status ValidateUploaderOptions(const UploaderOptions& options) {
  if (options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("uploader call_timeout must be positive");
  }
  if (absl::Status backoff = ValidateBackoffPolicy(options.backoff); !backoff.ok()) return backoff;
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("uploader max_attempts must be >= 1, got ", options.max_attempts));
  }
  if (options.batch_size < 1 || options.batch_size > kMaxListedRejections) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uploader batch_size must be in 1..", kMaxListedRejections, ", got ", options.batch_size));
  }
  if (std::isnan(options.epsilon_budget) || options.epsilon_budget <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("uploader epsilon_budget must be > 0, got ", options.epsilon_budget));
  }
  return absl::OkStatus();
}

Uploader::Uploader(const UploaderOptions& options, IngestTransport* transport, Clock* clock,
                   privacy::RandomSource* jitter_source, ParamsCache* cache)
    : options_(options),
      transport_(transport),
      clock_(clock),
      jitter_source_(jitter_source),
      cache_(cache) {}

absl::StatusOr<std::unique_ptr<Uploader>> Uploader::Create(const UploaderOptions& options,
                                                           IngestTransport* transport, Clock* clock,
                                                           privacy::RandomSource* jitter_source,
                                                           ParamsCache* cache) {
  if (absl::Status valid = ValidateUploaderOptions(options); !valid.ok()) return valid;
  if (transport == nullptr || clock == nullptr || jitter_source == nullptr) {
    return absl::InvalidArgumentError("uploader needs a transport, a clock and a random source");
  }
  return std::make_unique<Uploader>(options, transport, clock, jitter_source, cache);
}

void Uploader::Wait(Backoff& backoff, const std::optional<absl::Duration>& hint,
                    UploadStats& stats) {
  if (hint.has_value()) {
    ++stats.retry_hints;
    clock_->SleepFor(backoff.DelayForHint(*hint));
  } else {
    clock_->SleepFor(backoff.NextDelay());
  }
}

absl::Status Uploader::Flush(PendingPings& pending, UploadStats& stats) {
  return options_.use_submit_batch ? FlushBatches(pending, stats) : FlushOneByOne(pending, stats);
}

absl::Status Uploader::FlushOneByOne(PendingPings& pending, UploadStats& stats) {
  Backoff backoff(options_.backoff, jitter_source_);
  int failures = 0;
  while (pending.size() > 0) {
    absl::StatusOr<std::vector<v1::Ping>> oldest = pending.Oldest(1);
    if (!oldest.ok()) return oldest.status();
    if (oldest->empty()) break;
    const v1::Ping& ping = oldest->front();
    const SubmitOutcome outcome = transport_->Submit(ping, options_.call_timeout);
    if (outcome.status.ok() || IsPermanentRejection(outcome.status.code())) {
      if (absl::Status removed = pending.Remove({ping.ping_id()}); !removed.ok()) return removed;
      if (!outcome.status.ok()) {
        ++stats.dropped_invalid;
      } else if (outcome.duplicate) {
        ++stats.duplicates;
      } else {
        ++stats.acknowledged;
      }
      backoff.Reset();
      failures = 0;
      continue;
    }
    ++stats.failed_attempts;
    if (++failures >= options_.max_attempts) {
      return absl::UnavailableError(absl::StrCat("upload gave up after ", failures,
                                                 " attempts: ", outcome.status.ToString()));
    }
    Wait(backoff, outcome.retry_after, stats);
  }
  return absl::OkStatus();
}

absl::Status Uploader::FlushBatches(PendingPings& pending, UploadStats& stats) {
  Backoff backoff(options_.backoff, jitter_source_);
  int failures = 0;
  while (pending.size() > 0) {
    absl::StatusOr<std::vector<v1::Ping>> batch = pending.Oldest(options_.batch_size);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    const BatchOutcome outcome = transport_->SubmitBatch(*batch, options_.call_timeout);
    absl::Status failure = outcome.status;
    if (failure.ok() && outcome.rejected != outcome.rejections.size()) {
      // Cannot happen with batch_size <= kMaxListedRejections; if it does, which pings were
      // refused is unknown, so the whole batch is sent again (exactly-once makes that safe).
      failure = absl::InternalError(absl::StrCat("batch response lists ", outcome.rejections.size(),
                                                 " of ", outcome.rejected, " rejections"));
    }
    if (failure.ok()) {
      absl::flat_hash_map<size_t, absl::StatusCode> refused;
      for (const BatchRejection& r : outcome.rejections) refused[r.index] = r.code;
      std::vector<std::string> done;
      size_t retry_later = 0;
      absl::StatusCode retry_code = absl::StatusCode::kOk;
      for (size_t i = 0; i < batch->size(); ++i) {
        auto it = refused.find(i);
        if (it == refused.end()) {
          done.push_back((*batch)[i].ping_id());
        } else if (IsPermanentRejection(it->second)) {
          done.push_back((*batch)[i].ping_id());
          ++stats.dropped_invalid;
        } else {
          ++retry_later;
          retry_code = it->second;
        }
      }
      stats.acknowledged += outcome.accepted;
      stats.duplicates += outcome.duplicates;
      if (absl::Status removed = pending.Remove(done); !removed.ok()) return removed;
      if (retry_later == 0) {
        backoff.Reset();
        failures = 0;
        continue;
      }
      failure = absl::Status(retry_code, absl::StrCat(retry_later, " pings of a batch refused"));
    }
    ++stats.failed_attempts;
    if (++failures >= options_.max_attempts) {
      return absl::UnavailableError(
          absl::StrCat("upload gave up after ", failures, " attempts: ", failure.ToString()));
    }
    Wait(backoff, outcome.retry_after, stats);
  }
  return absl::OkStatus();
}

absl::StatusOr<ParamsRefresh> Uploader::RefreshParams(
    const std::shared_ptr<const ActiveParams>& current, PrivacyLedger& ledger, UploadStats& stats) {
  const std::string known = current == nullptr ? "" : current->catalog_version();
  Backoff backoff(options_.backoff, jitter_source_);
  ParamsOutcome outcome;
  for (int attempt = 1;; ++attempt) {
    outcome = transport_->GetParams(known, options_.call_timeout);
    if (outcome.status.ok()) break;
    ++stats.failed_attempts;
    if (attempt >= options_.max_attempts || IsPermanentRejection(outcome.status.code())) {
      return absl::UnavailableError(absl::StrCat("Params.Get failed after ", attempt,
                                                 " attempts: ", outcome.status.ToString()));
    }
    Wait(backoff, outcome.retry_after, stats);
  }
  ++stats.params_fetches;
  const v1::ParamsVersion& served = outcome.response.current();
  if (current != nullptr && served.version() == current->version() &&
      served.catalog_version() == current->catalog_version()) {
    return ParamsRefresh{.kind = ParamsRefresh::Kind::kUnchanged, .params = current};
  }

  const v1::Catalog* catalog =
      outcome.response.has_catalog() ? &outcome.response.catalog() : nullptr;
  absl::StatusOr<std::shared_ptr<const ActiveParams>> next;
  if (catalog == nullptr && current != nullptr &&
      served.catalog_version() == current->catalog_version()) {
    next = MakeActiveParamsWithChecker(served, current->shared_checker());
  } else if (cache_ != nullptr) {
    next = cache_->Intern(served, catalog);
  } else if (catalog == nullptr) {
    next = absl::NotFoundError(absl::StrCat("the server omitted catalog ", served.catalog_version(),
                                            ", which is not known"));
  } else {
    next = MakeActiveParams(served, catalog);
  }
  if (!next.ok()) return next.status();

  const double after =
      ledger.LifetimeAfterPing((*next)->version(), (*next)->epsilon_one(), (*next)->epsilon_inf());
  if (after > options_.epsilon_budget) {
    ParamsRefusal refusal{.params_version = (*next)->version(),
                          .epsilon_one = (*next)->epsilon_one(),
                          .epsilon_inf = (*next)->epsilon_inf(),
                          .lifetime_before = ledger.LifetimeEpsilon(),
                          .budget = options_.epsilon_budget};
    refusal.reason = absl::StrFormat(
        "params version %u: one ping (whole-ping epsilon %.4g) would bring the lifetime privacy "
        "loss from %.4g to %.4g, past the budget %.4g",
        refusal.params_version, refusal.epsilon_one, refusal.lifetime_before, after,
        refusal.budget);
    if (absl::Status recorded = ledger.RecordRefusal(refusal); !recorded.ok()) return recorded;
    ++stats.params_refusals;
    return ParamsRefresh{
        .kind = ParamsRefresh::Kind::kRefused, .params = current, .reason = refusal.reason};
  }
  return ParamsRefresh{.kind = ParamsRefresh::Kind::kAdopted, .params = *std::move(next)};
}

}  // namespace pinning::client
