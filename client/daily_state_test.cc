#include "client/daily_state.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::privacy::PinsetState;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr PinsetState k0 = PinsetState::kNotChecked;
constexpr PinsetState k1 = PinsetState::kCheckedOk;
constexpr PinsetState k2 = PinsetState::kViolated;

// A settable clock; starts at 2024-03-10 23:59:58 UTC.
class FakeTime {
 public:
  absl::Time Now() const { return absl::FromUnixSeconds(seconds_.load()); }
  void Advance(absl::Duration d) { seconds_ += absl::ToInt64Seconds(d); }
  DailyState::NowFunction AsFunction() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> seconds_{1710115198};
};

std::unique_ptr<DailyState> MustCreate(FakeTime& time, int k = 3, std::string version = "v1") {
  absl::StatusOr<std::unique_ptr<DailyState>> s =
      DailyState::Create(std::move(version), k, time.AsFunction());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

TEST(DailyStateTest, StateIsTheMaximumOverTheDaysChecks) {
  FakeTime time;
  auto state = MustCreate(time);
  ASSERT_TRUE(state->Record("v1", 0, false).ok());
  ASSERT_TRUE(state->Record("v1", 1, true).ok());
  ASSERT_TRUE(state->Record("v1", 1, false).ok()) << "a later good check keeps the violation";
  ASSERT_TRUE(state->Record("v1", 0, false).ok());
  EXPECT_THAT(state->GetSnapshot().states, ElementsAre(k1, k2, k0));
  EXPECT_THAT(state->TakeFinishedDays(), IsEmpty()) << "the day is not over";
}

TEST(DailyStateTest, RolloverFreezesTheFinishedDayOnce) {
  FakeTime time;
  auto state = MustCreate(time);
  EXPECT_EQ(state->current_day(), absl::CivilDay(2024, 3, 10));
  ASSERT_TRUE(state->Record("v1", 2, true).ok());
  time.Advance(absl::Seconds(1));  // 23:59:59, same day.
  ASSERT_TRUE(state->Record("v1", 0, false).ok());
  time.Advance(absl::Seconds(1));  // 00:00:00 UTC: a new day.
  ASSERT_TRUE(state->Record("v1", 1, false).ok());
  std::vector<FinishedDay> days = state->TakeFinishedDays();
  ASSERT_THAT(days, SizeIs(1));
  EXPECT_EQ(days[0].day, absl::CivilDay(2024, 3, 10));
  EXPECT_EQ(days[0].catalog_version, "v1");
  EXPECT_THAT(days[0].states, ElementsAre(k1, k0, k2));
  // The new day started from zero and only has today's check.
  EXPECT_EQ(state->current_day(), absl::CivilDay(2024, 3, 11));
  EXPECT_THAT(state->GetSnapshot().states, ElementsAre(k0, k1, k0));
  // Taken means gone: never returned twice.
  EXPECT_THAT(state->TakeFinishedDays(), IsEmpty());
}

TEST(DailyStateTest, SeveralIdleDaysFreezeOnlyTheDaysThatWereOpen) {
  FakeTime time;
  auto state = MustCreate(time);
  ASSERT_TRUE(state->Record("v1", 0, true).ok());
  time.Advance(absl::Hours(24 * 5));  // Offline for days.
  ASSERT_TRUE(state->Record("v1", 0, false).ok());
  time.Advance(absl::Hours(24));
  std::vector<FinishedDay> days = state->TakeFinishedDays();
  ASSERT_THAT(days, SizeIs(2));
  EXPECT_EQ(days[0].day, absl::CivilDay(2024, 3, 10));
  EXPECT_THAT(days[0].states, ElementsAre(k2, k0, k0));
  EXPECT_EQ(days[1].day, absl::CivilDay(2024, 3, 15));
  EXPECT_THAT(days[1].states, ElementsAre(k1, k0, k0));
}

TEST(DailyStateTest, ClockGoingBackwardsNeverReopensAFrozenDay) {
  FakeTime time;
  auto state = MustCreate(time);
  time.Advance(absl::Hours(1));  // 2024-03-11
  EXPECT_THAT(state->TakeFinishedDays(), SizeIs(1));
  time.Advance(absl::Hours(-2));  // Back to 2024-03-10.
  ASSERT_TRUE(state->Record("v1", 1, true).ok());
  EXPECT_EQ(state->current_day(), absl::CivilDay(2024, 3, 11)) << "checks count toward today";
  EXPECT_THAT(state->GetSnapshot().states, ElementsAre(k0, k2, k0));
  time.Advance(absl::Hours(2));  // 2024-03-11 again: still the same open day.
  EXPECT_THAT(state->TakeFinishedDays(), IsEmpty());
  time.Advance(absl::Hours(24));
  std::vector<FinishedDay> days = state->TakeFinishedDays();
  ASSERT_THAT(days, SizeIs(1));
  EXPECT_EQ(days[0].day, absl::CivilDay(2024, 3, 11));
}

TEST(DailyStateTest, CatalogSwitchesAtRollover) {
  FakeTime time;
  auto state = MustCreate(time, 3, "v1");
  ASSERT_TRUE(state->SetNextCatalog("v2", 2).ok());
  ASSERT_TRUE(state->Record("v1", 2, false).ok());
  EXPECT_EQ(state->Record("v2", 0, false).code(), absl::StatusCode::kFailedPrecondition)
      << "v2 applies only from the next day";
  time.Advance(absl::Hours(1));
  EXPECT_EQ(state->Record("v1", 0, false).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(state->Record("v2", 1, true).ok());
  EXPECT_EQ(state->Record("v2", 2, false).code(), absl::StatusCode::kOutOfRange);
  std::vector<FinishedDay> days = state->TakeFinishedDays();
  ASSERT_THAT(days, SizeIs(1));
  EXPECT_EQ(days[0].catalog_version, "v1");
  EXPECT_THAT(days[0].states, ElementsAre(k0, k0, k1));
  EXPECT_EQ(state->GetSnapshot().catalog_version, "v2");
  EXPECT_THAT(state->GetSnapshot().states, ElementsAre(k0, k2));
}

TEST(DailyStateTest, SnapshotAndRestoreContinueWithoutRefreezing) {
  FakeTime time;
  auto state = MustCreate(time);
  ASSERT_TRUE(state->Record("v1", 0, true).ok());
  time.Advance(absl::Hours(1));  // Day 10 frozen, not taken.
  ASSERT_TRUE(state->Record("v1", 1, false).ok());
  const DailyState::Snapshot snapshot = state->GetSnapshot();
  ASSERT_THAT(snapshot.finished_days, SizeIs(1));
  EXPECT_EQ(snapshot.last_frozen_day, absl::CivilDay(2024, 3, 10));

  // A restart later the same day.
  absl::StatusOr<std::unique_ptr<DailyState>> restored =
      DailyState::Restore(snapshot, time.AsFunction());
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE((*restored)->Record("v1", 2, false).ok());
  time.Advance(absl::Hours(24));
  std::vector<FinishedDay> days = (*restored)->TakeFinishedDays();
  ASSERT_THAT(days, SizeIs(2));
  EXPECT_EQ(days[0].day, absl::CivilDay(2024, 3, 10));
  EXPECT_THAT(days[0].states, ElementsAre(k2, k0, k0));
  EXPECT_EQ(days[1].day, absl::CivilDay(2024, 3, 11));
  EXPECT_THAT(days[1].states, ElementsAre(k0, k1, k1));
}

TEST(DailyStateTest, RestoreRejectsInconsistentSnapshots) {
  FakeTime time;
  DailyState::Snapshot good;
  good.day = absl::CivilDay(2024, 3, 10);
  good.catalog_version = "v1";
  good.states = {k0, k1};
  good.last_frozen_day = absl::CivilDay(2024, 3, 9);
  good.finished_days = {{absl::CivilDay(2024, 3, 8), "v1", {k1, k1}},
                        {absl::CivilDay(2024, 3, 9), "v1", {k2, k1}}};
  EXPECT_TRUE(DailyState::Restore(good, time.AsFunction()).ok());

  auto expect_invalid = [&](auto mutate) {
    DailyState::Snapshot s = good;
    mutate(s);
    EXPECT_EQ(DailyState::Restore(s, time.AsFunction()).status().code(),
              absl::StatusCode::kInvalidArgument);
  };
  expect_invalid([](auto& s) { s.states.clear(); });
  expect_invalid([](auto& s) { s.states[0] = static_cast<PinsetState>(3); });
  expect_invalid([](auto& s) { s.catalog_version.clear(); });
  expect_invalid([](auto& s) { s.last_frozen_day = absl::CivilDay(2024, 3, 10); });
  expect_invalid([](auto& s) { std::swap(s.finished_days[0], s.finished_days[1]); });
  expect_invalid([](auto& s) { s.finished_days[1].day = absl::CivilDay(2024, 3, 12); });
  expect_invalid([](auto& s) { s.last_frozen_day.reset(); });
  expect_invalid([](auto& s) { s.finished_days[0].states[1] = static_cast<PinsetState>(9); });
  expect_invalid([](auto& s) { s.next_catalog = std::make_pair(std::string("v2"), 0); });
}

TEST(DailyStateTest, QueueOfFinishedDaysIsBounded) {
  FakeTime time;
  auto state = MustCreate(time);
  const int days = DailyState::kMaxQueuedDays + 5;
  for (int i = 0; i < days; ++i) {
    ASSERT_TRUE(state->Record("v1", 0, false).ok());
    time.Advance(absl::Hours(24));
  }
  std::vector<FinishedDay> finished = state->TakeFinishedDays();
  ASSERT_THAT(finished, SizeIs(DailyState::kMaxQueuedDays));
  EXPECT_EQ(state->dropped_days(), 5u);
  EXPECT_EQ(finished.front().day, absl::CivilDay(2024, 3, 10) + 5) << "oldest dropped first";
}

TEST(DailyStateTest, CreateValidatesItsArguments) {
  FakeTime time;
  EXPECT_FALSE(DailyState::Create("", 3, time.AsFunction()).ok());
  EXPECT_FALSE(DailyState::Create("v1", 0, time.AsFunction()).ok());
  auto state = MustCreate(time);
  EXPECT_EQ(state->SetNextCatalog("v2", 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state->Record("v1", 3, false).code(), absl::StatusCode::kOutOfRange);
}

TEST(DailyStateTest, ConcurrentChecksAreAllCounted) {
  FakeTime time;
  auto state = MustCreate(time, 64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 64; ++i) {
        // Thread t violates pinset t*8..t*8+7 once and checks every pinset otherwise.
        const bool violated = i / 8 == t && i % 8 == 0;
        EXPECT_TRUE(state->Record("v1", i, violated).ok());
        if (violated) {
          EXPECT_TRUE(state->Record("v1", i + 1, true).ok());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const DailyState::Snapshot s = state->GetSnapshot();
  int violated = 0;
  int checked = 0;
  for (PinsetState p : s.states) {
    violated += p == k2;
    checked += p != k0;
  }
  EXPECT_EQ(checked, 64);
  EXPECT_EQ(violated, 16);
}

}  // namespace
}  // namespace pinning::client
