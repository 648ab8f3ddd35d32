#include "client/upload/privacy_ledger.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(PrivacyLedgerTest, PingsOfOneVersionCostTheSmallerOfComposedAndLongitudinal) {
  InMemoryPrivacyLedger ledger;
  // eps1 = 0.5, eps_inf = 2: spent after n pings is min(0.5 n, 2).
  const double expected_spent[] = {0.5, 1.0, 1.5, 2.0, 2.0, 2.0};
  for (double spent : expected_spent) {
    ASSERT_TRUE(ledger.RecordPing(1, 0.5, 2.0).ok());
    EXPECT_DOUBLE_EQ(ledger.Entry(1).epsilon_spent, spent);
  }
  EXPECT_EQ(ledger.Entry(1).pings, 6);
  EXPECT_DOUBLE_EQ(ledger.LifetimeEpsilon(), 2.0);
}

TEST(PrivacyLedgerTest, CapIsReachedPartway) {
  InMemoryPrivacyLedger ledger;
  // eps1 = 0.75, eps_inf = 2: 0.75, 1.5, then 2 (a partial charge of 0.5), then nothing.
  ASSERT_TRUE(ledger.RecordPing(1, 0.75, 2.0).ok());
  ASSERT_TRUE(ledger.RecordPing(1, 0.75, 2.0).ok());
  EXPECT_DOUBLE_EQ(PingCost(ledger.Entry(1), 0.75, 2.0), 0.5);
  ASSERT_TRUE(ledger.RecordPing(1, 0.75, 2.0).ok());
  EXPECT_DOUBLE_EQ(PingCost(ledger.Entry(1), 0.75, 2.0), 0.0);
}

TEST(PrivacyLedgerTest, InfinitiesAreHandled) {
  // f = 0: no longitudinal bound, every ping costs eps1.
  EXPECT_DOUBLE_EQ(PingCost({.params_version = 1, .pings = 9, .epsilon_spent = 4.5}, 0.5, kInf),
                   0.5);
  // p* = 0: one ping is already unbounded.
  EXPECT_TRUE(std::isinf(PingCost({.params_version = 1}, kInf, kInf)));
  EXPECT_DOUBLE_EQ(PingCost({.params_version = 1, .pings = 1, .epsilon_spent = kInf}, kInf, kInf),
                   0.0);
}

TEST(PrivacyLedgerTest, VersionsAddUp) {
  InMemoryPrivacyLedger ledger;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ledger.RecordPing(1, 0.5, 2.0).ok());
  ASSERT_TRUE(ledger.RecordPing(2, 0.25, 3.0).ok());
  ASSERT_EQ(ledger.Entries().size(), 2u);
  EXPECT_DOUBLE_EQ(ledger.LifetimeEpsilon(), 2.0 + 0.25);
  // One more ping under version 2 costs 0.25; under version 1 nothing (capped at 2.0); under a
  // new version 3 its epsilon_one.
  EXPECT_DOUBLE_EQ(ledger.LifetimeAfterPing(2, 0.25, 3.0), 2.5);
  EXPECT_DOUBLE_EQ(ledger.LifetimeAfterPing(1, 0.5, 2.0), 2.25);
  EXPECT_DOUBLE_EQ(ledger.LifetimeAfterPing(3, 1.0, 4.0), 3.25);
}

TEST(PrivacyLedgerTest, ChargeRejectsNegativeAndNan) {
  InMemoryPrivacyLedger ledger;
  EXPECT_EQ(ledger.Charge(1, -0.1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger.Charge(1, std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ledger.Charge(1, 0.0).ok());
  EXPECT_EQ(ledger.Entry(1).pings, 1);
}

TEST(PrivacyLedgerTest, RefusalsAreCountedAndTheRecentOnesKept) {
  InMemoryPrivacyLedger ledger;
  for (uint32_t v = 1; v <= InMemoryPrivacyLedger::kKeptRefusals + 3; ++v) {
    ASSERT_TRUE(ledger.RecordRefusal({.params_version = v, .reason = "budget"}).ok());
  }
  EXPECT_EQ(ledger.refusals(), InMemoryPrivacyLedger::kKeptRefusals + 3);
  ASSERT_EQ(ledger.recent_refusals().size(), InMemoryPrivacyLedger::kKeptRefusals);
  EXPECT_EQ(ledger.recent_refusals().back().params_version,
            InMemoryPrivacyLedger::kKeptRefusals + 3);
  EXPECT_EQ(ledger.recent_refusals().front().params_version, 4u);
}

}  // namespace
}  // namespace pinning::client
