#include "client/daily_state.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace pinning::client {
namespace {

using ::privacy::PinsetState;

absl::Status CheckCatalog(absl::string_view version, int num_pinsets) {
  if (version.empty()) return absl::InvalidArgumentError("empty catalog version");
  if (num_pinsets < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a catalog has at least one pinset, not ", num_pinsets));
  }
  return absl::OkStatus();
}

absl::Status CheckStates(const std::vector<PinsetState>& states, absl::string_view what) {
  for (PinsetState s : states) {
    if (!privacy::IsValidState(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": invalid pinset state ", static_cast<int>(s)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::CivilDay ToUtcDay(absl::Time t) { return absl::ToCivilDay(t, absl::UTCTimeZone()); }

absl::StatusOr<std::unique_ptr<DailyState>> DailyState::Create(std::string catalog_version,
                                                               int num_pinsets, NowFunction now) {
  if (absl::Status s = CheckCatalog(catalog_version, num_pinsets); !s.ok()) return s;
  Snapshot snapshot;
  snapshot.day = ToUtcDay(now());
  snapshot.catalog_version = std::move(catalog_version);
  snapshot.states.assign(num_pinsets, PinsetState::kNotChecked);
  return std::unique_ptr<DailyState>(new DailyState(std::move(snapshot), std::move(now)));
}

absl::StatusOr<std::unique_ptr<DailyState>> DailyState::Restore(Snapshot snapshot,
                                                                NowFunction now) {
  if (absl::Status s = CheckCatalog(snapshot.catalog_version, snapshot.states.size()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckStates(snapshot.states, "open day"); !s.ok()) return s;
  if (snapshot.last_frozen_day.has_value() && snapshot.day <= *snapshot.last_frozen_day) {
    return absl::InvalidArgumentError(absl::StrCat(
        "open day ", absl::FormatCivilTime(snapshot.day), " is not after the last frozen day ",
        absl::FormatCivilTime(*snapshot.last_frozen_day)));
  }
  for (size_t i = 0; i < snapshot.finished_days.size(); ++i) {
    const FinishedDay& d = snapshot.finished_days[i];
    if (absl::Status s = CheckCatalog(d.catalog_version, d.states.size()); !s.ok()) return s;
    if (absl::Status s = CheckStates(d.states, "finished day"); !s.ok()) return s;
    if ((i > 0 && d.day <= snapshot.finished_days[i - 1].day) ||
        !snapshot.last_frozen_day.has_value() || d.day > *snapshot.last_frozen_day) {
      return absl::InvalidArgumentError("finished days out of order or after the last frozen day");
    }
  }
  if (snapshot.next_catalog.has_value()) {
    if (absl::Status s = CheckCatalog(snapshot.next_catalog->first, snapshot.next_catalog->second);
        !s.ok()) {
      return s;
    }
  }
  return std::unique_ptr<DailyState>(new DailyState(std::move(snapshot), std::move(now)));
}

void DailyState::RollOverLocked() {
  const absl::CivilDay today = ToUtcDay(now_());
  if (today <= s_.day) return;  // Same day, or the clock went backwards: keep the open day.
  s_.finished_days.push_back({s_.day, s_.catalog_version, s_.states});
  while (s_.finished_days.size() > kMaxQueuedDays) {
    s_.finished_days.erase(s_.finished_days.begin());
    ++s_.dropped_days;
  }
  s_.last_frozen_day = s_.day;
  s_.day = today;
  if (s_.next_catalog.has_value()) {
    s_.catalog_version = std::move(s_.next_catalog->first);
    s_.states.assign(s_.next_catalog->second, PinsetState::kNotChecked);
    s_.next_catalog.reset();
  } else {
    std::fill(s_.states.begin(), s_.states.end(), PinsetState::kNotChecked);
  }
}

absl::Status DailyState::Record(absl::string_view catalog_version, uint32_t pinset_index,
                                bool violated) {
  absl::MutexLock lock(&mu_);
  RollOverLocked();
  if (catalog_version != s_.catalog_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("check made against catalog ", catalog_version, " but the day ",
                     absl::FormatCivilTime(s_.day), " uses catalog ", s_.catalog_version));
  }
  if (pinset_index >= s_.states.size()) {
    return absl::OutOfRangeError(
        absl::StrCat("pinset index ", pinset_index, " of ", s_.states.size()));
  }
  const PinsetState outcome = violated ? PinsetState::kViolated : PinsetState::kCheckedOk;
  PinsetState& state = s_.states[pinset_index];
  state = std::max(state, outcome);
  return absl::OkStatus();
}

absl::Status DailyState::SetNextCatalog(std::string catalog_version, int num_pinsets) {
  if (absl::Status s = CheckCatalog(catalog_version, num_pinsets); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  RollOverLocked();
  s_.next_catalog = std::make_pair(std::move(catalog_version), num_pinsets);
  return absl::OkStatus();
}

std::vector<FinishedDay> DailyState::TakeFinishedDays() {
  absl::MutexLock lock(&mu_);
  RollOverLocked();
  std::vector<FinishedDay> out;
  out.swap(s_.finished_days);
  return out;
}

DailyState::Snapshot DailyState::GetSnapshot() {
  absl::MutexLock lock(&mu_);
  RollOverLocked();
  return s_;
}

absl::CivilDay DailyState::current_day() {
  absl::MutexLock lock(&mu_);
  RollOverLocked();
  return s_.day;
}

uint64_t DailyState::dropped_days() {
  absl::MutexLock lock(&mu_);
  return s_.dropped_days;
}

}  // namespace pinning::client
