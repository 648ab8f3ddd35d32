#include "client/upload/privacy_ledger.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(PrivacyLedgerTest, SpentIsTheSmallerOfComposedAndLongitudinal) {
  EXPECT_DOUBLE_EQ(EpsilonSpent({.params_version = 1, .epsilon_one = 0.5, .epsilon_inf = 2.0,
                                 .pings = 0}),
                   0.0);
  EXPECT_DOUBLE_EQ(EpsilonSpent({.params_version = 1, .epsilon_one = 0.5, .epsilon_inf = 2.0,
                                 .pings = 3}),
                   1.5);
  EXPECT_DOUBLE_EQ(EpsilonSpent({.params_version = 1, .epsilon_one = 0.5, .epsilon_inf = 2.0,
                                 .pings = 100}),
                   2.0);
  // f = 0: no longitudinal bound; the loss grows with every ping.
  EXPECT_DOUBLE_EQ(EpsilonSpent({.params_version = 1, .epsilon_one = 0.5, .epsilon_inf = kInf,
                                 .pings = 10}),
                   5.0);
  EXPECT_TRUE(std::isinf(EpsilonSpent({.params_version = 1, .epsilon_one = kInf,
                                       .epsilon_inf = kInf, .pings = 1})));
}

TEST(PrivacyLedgerTest, VersionsAddUp) {
  InMemoryPrivacyLedger ledger;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ledger.RecordPing(1, 0.5, 2.0).ok());
  ASSERT_TRUE(ledger.RecordPing(2, 0.25, 3.0).ok());
  ASSERT_EQ(ledger.Entries().size(), 2u);
  EXPECT_EQ(ledger.Entries()[0].pings, 10);
  EXPECT_DOUBLE_EQ(ledger.LifetimeEpsilon(), 2.0 + 0.25);
  // One more ping under version 2 costs 0.25; under version 1 nothing (capped at 2.0); under a
  // new version 3 its epsilon_one.
  EXPECT_DOUBLE_EQ(ledger.LifetimeAfterPing(2, 0.25, 3.0), 2.5);
  EXPECT_DOUBLE_EQ(ledger.LifetimeAfterPing(1, 0.5, 2.0), 2.25);
  EXPECT_DOUBLE_EQ(ledger.LifetimeAfterPing(3, 1.0, 4.0), 3.25);
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
