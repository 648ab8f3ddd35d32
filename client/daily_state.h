// daily_state.h: each pinset's state for the current UTC day, frozen at day rollover.
//
// DESIGN §4: a ping reports, per pinset, the day's state: not checked (0), checked without
// violation (1), or at least one violation (2). Every pin check raises the pinset's state to the
// maximum of its current value and the check's outcome. When the UTC date moves on, the finished
// day is frozen (its states never change again) and queued for encoding; a new day starts with
// every pinset not checked. A day is frozen at most once, also across restarts (Snapshot and
// Restore carry the last frozen date): if the clock goes backwards, checks keep counting toward
// the current day rather than reopening a finished one.
//
// A day belongs to one catalog version, because pinset indices are positions in that catalog.
// SetNextCatalog switches catalogs at the next rollover; a check made against another catalog
// version is refused, so one ping never mixes two catalogs.
//
//   ASSIGN_OR_RETURN(auto state, DailyState::Create(catalog.version(), catalog.pinsets_size(),
//                                                   [] { return absl::Now(); }));
//   RETURN_IF_ERROR(state->Record(catalog.version(), result.pinset_index, result.violated()));
//   for (FinishedDay& day : state->TakeFinishedDays()) { ... encode and queue a ping ... }
//
// Thread safety: all methods may be called concurrently (TLS checks come from many threads).
#ifndef CLIENT_DAILY_STATE_H_
#define CLIENT_DAILY_STATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "privacy/pinset_state.h"

namespace pinning::client {

// FinishedDay is one frozen UTC day: the states to encode into that day's ping.
struct FinishedDay {
  absl::CivilDay day;
  std::string catalog_version;
  std::vector<privacy::PinsetState> states;  // One per pinset of that catalog.

  friend bool operator==(const FinishedDay&, const FinishedDay&) = default;
};

class DailyState {
 public:
  using NowFunction = std::function<absl::Time()>;

  // The most finished days kept waiting for TakeFinishedDays; older ones are dropped first and
  // counted in dropped_days().
  static constexpr size_t kMaxQueuedDays = 64;

  // Snapshot is the complete state, for persisting across restarts (client_store.h).
  struct Snapshot {
    absl::CivilDay day;  // The open day.
    std::string catalog_version;
    std::vector<privacy::PinsetState> states;
    std::optional<absl::CivilDay> last_frozen_day;
    std::vector<FinishedDay> finished_days;  // Frozen, not yet taken; oldest first.
    // Catalog to switch to at the next rollover, if any.
    std::optional<std::pair<std::string, int>> next_catalog;
    uint64_t dropped_days = 0;
  };

  // Create starts a day (today, by `now`) for a catalog of `num_pinsets` pinsets.
  // Errors: INVALID_ARGUMENT for an empty version or num_pinsets < 1.
  static absl::StatusOr<std::unique_ptr<DailyState>> Create(std::string catalog_version,
                                                            int num_pinsets, NowFunction now);

  // Restore continues from a snapshot; a rollover due since then happens on the next call.
  // Errors: INVALID_ARGUMENT for an inconsistent snapshot (states not matching the catalog size
  // or out of range, the open day not after the last frozen day, unordered finished days).
  static absl::StatusOr<std::unique_ptr<DailyState>> Restore(Snapshot snapshot, NowFunction now);

  // Record applies one check of pinset `pinset_index` made against catalog `catalog_version`:
  // the pinset's state becomes at least kCheckedOk, or kViolated when `violated`.
  // Errors: FAILED_PRECONDITION when `catalog_version` is not the open day's catalog;
  // OUT_OF_RANGE for an index outside the catalog.
  absl::Status Record(absl::string_view catalog_version, uint32_t pinset_index, bool violated);

  // SetNextCatalog makes the day that starts at the next rollover use another catalog.
  // Errors: INVALID_ARGUMENT as Create.
  absl::Status SetNextCatalog(std::string catalog_version, int num_pinsets);

  // TakeFinishedDays rolls over if the date changed, then returns and forgets the frozen days,
  // oldest first.
  std::vector<FinishedDay> TakeFinishedDays();

  // GetSnapshot rolls over if due and returns the complete state.
  Snapshot GetSnapshot();

  // current_day is the open day (after rolling over if due).
  absl::CivilDay current_day();

  uint64_t dropped_days();

 private:
  DailyState(Snapshot snapshot, NowFunction now) : s_(std::move(snapshot)), now_(std::move(now)) {}
  void RollOverLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Snapshot s_ ABSL_GUARDED_BY(mu_);
  const NowFunction now_;
};

// ToUtcDay is the UTC date of `t`.
absl::CivilDay ToUtcDay(absl::Time t);

}  // namespace pinning::client

#endif  // CLIENT_DAILY_STATE_H_
