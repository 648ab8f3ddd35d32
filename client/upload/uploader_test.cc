#include "client/upload/uploader.h"

#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/upload/fake_clock.h"
#include "client/upload/scripted_transport.h"
#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"
#include "privacy/random_source.h"

namespace pinning::client {
namespace {

std::string Id(char c) { return std::string(16, c); }

v1::Ping MakePing(char c) {
  v1::Ping ping;
  ping.set_ping_id(Id(c));
  ping.set_day("2024-03-01");
  return ping;
}

SubmitOutcome Fail(absl::StatusCode code, std::optional<absl::Duration> hint = std::nullopt) {
  return SubmitOutcome{.status = absl::Status(code, "scripted"), .retry_after = hint};
}

class UploaderTest : public ::testing::Test {
 protected:
  UploaderTest() : clock_(absl::FromUnixSeconds(1700000000)), random_(42) {}

  std::unique_ptr<Uploader> MakeUploader(UploaderOptions options = {}) {
    absl::StatusOr<std::unique_ptr<Uploader>> uploader =
        Uploader::Create(options, &transport_, &clock_, &random_, &cache_);
    EXPECT_TRUE(uploader.ok()) << uploader.status();
    return *std::move(uploader);
  }

  std::vector<double> SleepSeconds() const {
    std::vector<double> out;
    for (absl::Duration d : clock_.sleeps()) out.push_back(absl::ToDoubleSeconds(d));
    return out;
  }

  ScriptedTransport transport_;
  FakeClock clock_;
  privacy::SeededRandomSource random_;
  ParamsCache cache_;
  UploadStats stats_;
};

TEST_F(UploaderTest, RetriesTransientFailuresOnTheBackoffScheduleWithTheSamePingId) {
  InMemoryPendingPings pending(10);
  ASSERT_TRUE(pending.Append(MakePing('a')).ok());
  transport_.submit_script = {Fail(absl::StatusCode::kUnavailable),
                              Fail(absl::StatusCode::kDeadlineExceeded),
                              Fail(absl::StatusCode::kInternal), SubmitOutcome{}};
  UploaderOptions options;
  options.call_timeout = absl::Seconds(7);
  std::unique_ptr<Uploader> uploader = MakeUploader(options);
  ASSERT_TRUE(uploader->Flush(pending, stats_).ok());

  EXPECT_EQ(transport_.SubmittedIds(), std::vector<std::string>(4, Id('a')));
  for (absl::Duration t : transport_.timeouts) EXPECT_EQ(t, absl::Seconds(7));
  // Bases 1, 1.6, 2.56 s (gRPC connection backoff), each with ±20% jitter.
  const std::vector<double> sleeps = SleepSeconds();
  const double bases[] = {1.0, 1.6, 2.56};
  ASSERT_EQ(sleeps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_GE(sleeps[i], 0.8 * bases[i]);
    EXPECT_LT(sleeps[i], 1.2 * bases[i]);
  }
  EXPECT_EQ(stats_.acknowledged, 1u);
  EXPECT_EQ(stats_.failed_attempts, 3u);
  EXPECT_EQ(pending.size(), 0u);
}

TEST_F(UploaderTest, JitterDiffersBetweenClientsThatFailedTogether) {
  // Two uploaders with different random streams wait different times after the same failure.
  std::vector<double> first_waits;
  for (uint64_t seed : {1, 2, 3}) {
    privacy::SeededRandomSource random(seed);
    FakeClock clock(absl::UnixEpoch());
    ScriptedTransport transport;
    transport.submit_script = {Fail(absl::StatusCode::kUnavailable)};
    Uploader uploader(UploaderOptions{}, &transport, &clock, &random);
    InMemoryPendingPings pending(1);
    ASSERT_TRUE(pending.Append(MakePing('x')).ok());
    UploadStats stats;
    ASSERT_TRUE(uploader.Flush(pending, stats).ok());
    ASSERT_EQ(clock.sleeps().size(), 1u);
    first_waits.push_back(absl::ToDoubleSeconds(clock.sleeps()[0]));
  }
  EXPECT_NE(first_waits[0], first_waits[1]);
  EXPECT_NE(first_waits[1], first_waits[2]);
}

TEST_F(UploaderTest, GivesUpAfterMaxAttemptsAndKeepsThePing) {
  InMemoryPendingPings pending(10);
  ASSERT_TRUE(pending.Append(MakePing('a')).ok());
  transport_.submit_script.assign(10, Fail(absl::StatusCode::kUnavailable));
  UploaderOptions options;
  options.max_attempts = 4;
  absl::Status flushed = MakeUploader(options)->Flush(pending, stats_);
  EXPECT_EQ(flushed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(transport_.SubmittedIds().size(), 4u);
  EXPECT_EQ(clock_.sleeps().size(), 3u);  // no wait after the last attempt
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_EQ(stats_.failed_attempts, 4u);
}

TEST_F(UploaderTest, HonoursRetryAfterHintOfResourceExhausted) {
  InMemoryPendingPings pending(10);
  ASSERT_TRUE(pending.Append(MakePing('a')).ok());
  transport_.submit_script = {Fail(absl::StatusCode::kResourceExhausted, absl::Milliseconds(4500)),
                              Fail(absl::StatusCode::kResourceExhausted, absl::Milliseconds(30)),
                              SubmitOutcome{}};
  ASSERT_TRUE(MakeUploader()->Flush(pending, stats_).ok());
  const std::vector<double> sleeps = SleepSeconds();
  ASSERT_EQ(sleeps.size(), 2u);
  // Never earlier than the hint, at most 20% later.
  EXPECT_GE(sleeps[0], 4.5);
  EXPECT_LT(sleeps[0], 4.5 * 1.2);
  EXPECT_GE(sleeps[1], 0.030);
  EXPECT_LT(sleeps[1], 0.030 * 1.2);
  EXPECT_EQ(stats_.retry_hints, 2u);
}

TEST_F(UploaderTest, DropsAndCountsPingsRejectedAsInvalid) {
  InMemoryPendingPings pending(10);
  for (char c : {'a', 'b', 'c', 'd'}) ASSERT_TRUE(pending.Append(MakePing(c)).ok());
  transport_.submit_script = {Fail(absl::StatusCode::kInvalidArgument), SubmitOutcome{},
                              Fail(absl::StatusCode::kFailedPrecondition),
                              SubmitOutcome{.duplicate = true}};
  ASSERT_TRUE(MakeUploader()->Flush(pending, stats_).ok());
  EXPECT_EQ(transport_.SubmittedIds(),
            (std::vector<std::string>{Id('a'), Id('b'), Id('c'), Id('d')}));
  EXPECT_EQ(stats_.dropped_invalid, 2u);
  EXPECT_EQ(stats_.acknowledged, 1u);
  EXPECT_EQ(stats_.duplicates, 1u);
  EXPECT_EQ(stats_.failed_attempts, 0u);
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_EQ(pending.size(), 0u);
}

TEST_F(UploaderTest, OfflineDaysKeepOnlyTheNewestPingsUpToTheBound) {
  InMemoryPendingPings pending(3);
  UploaderOptions options;
  options.max_attempts = 1;
  std::unique_ptr<Uploader> uploader = MakeUploader(options);
  for (char c : {'a', 'b', 'c', 'd', 'e'}) {  // five offline days
    ASSERT_TRUE(pending.Append(MakePing(c)).ok());
    transport_.submit_script = {Fail(absl::StatusCode::kUnavailable)};
    EXPECT_EQ(uploader->Flush(pending, stats_).code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(pending.dropped_overflow(), 2u);
  transport_.submitted.clear();
  ASSERT_TRUE(uploader->Flush(pending, stats_).ok());  // back online
  EXPECT_EQ(transport_.SubmittedIds(), (std::vector<std::string>{Id('c'), Id('d'), Id('e')}));
  EXPECT_EQ(stats_.acknowledged, 3u);
}

TEST_F(UploaderTest, BatchModeDropsInvalidRetriesRefusedAndHonoursHints) {
  InMemoryPendingPings pending(10);
  for (char c : {'a', 'b', 'c', 'd', 'e'}) ASSERT_TRUE(pending.Append(MakePing(c)).ok());
  BatchOutcome first{
      .accepted = 2, .duplicates = 1, .rejected = 2, .retry_after = absl::Milliseconds(800)};
  first.rejections = {
      {.index = 1, .code = absl::StatusCode::kInvalidArgument, .reason = "bad_bits_length"},
      {.index = 3, .code = absl::StatusCode::kResourceExhausted, .reason = "overload"}};
  transport_.batch_script = {first, BatchOutcome{.accepted = 1}};
  UploaderOptions options;
  options.use_submit_batch = true;
  options.batch_size = 4;
  ASSERT_TRUE(MakeUploader(options)->Flush(pending, stats_).ok());
  ASSERT_EQ(transport_.batch_ids.size(), 2u);
  EXPECT_EQ(transport_.batch_ids[0],
            (std::vector<std::string>{Id('a'), Id('b'), Id('c'), Id('d')}));
  // 'd' was refused for overload: retried first, with 'e' after it.
  EXPECT_EQ(transport_.batch_ids[1], (std::vector<std::string>{Id('d'), Id('e')}));
  const std::vector<double> sleeps = SleepSeconds();
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_GE(sleeps[0], 0.8);
  EXPECT_LT(sleeps[0], 0.96);
  EXPECT_EQ(stats_.dropped_invalid, 1u);
  EXPECT_EQ(stats_.acknowledged, 3u);
  EXPECT_EQ(stats_.duplicates, 1u);
  EXPECT_EQ(pending.size(), 0u);
}

TEST_F(UploaderTest, BatchStreamFailureResendsTheWholeBatch) {
  InMemoryPendingPings pending(10);
  for (char c : {'a', 'b'}) ASSERT_TRUE(pending.Append(MakePing(c)).ok());
  transport_.batch_script = {BatchOutcome{.status = absl::UnavailableError("reset")},
                             BatchOutcome{.accepted = 1, .duplicates = 1}};
  UploaderOptions options;
  options.use_submit_batch = true;
  ASSERT_TRUE(MakeUploader(options)->Flush(pending, stats_).ok());
  ASSERT_EQ(transport_.batch_ids.size(), 2u);
  EXPECT_EQ(transport_.batch_ids[0], transport_.batch_ids[1]);
  EXPECT_EQ(stats_.failed_attempts, 1u);
  EXPECT_EQ(stats_.duplicates, 1u);
}

TEST_F(UploaderTest, RejectsInvalidOptions) {
  UploaderOptions options;
  options.batch_size = kMaxListedRejections + 1;
  EXPECT_EQ(Uploader::Create(options, &transport_, &clock_, &random_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = UploaderOptions{};
  options.max_attempts = 0;
  EXPECT_EQ(Uploader::Create(options, &transport_, &clock_, &random_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = UploaderOptions{};
  options.epsilon_budget = -1;
  EXPECT_EQ(Uploader::Create(options, &transport_, &clock_, &random_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Parameters ----

TEST_F(UploaderTest, AdoptsParamsThenReportsThemUnchanged) {
  const v1::Catalog catalog = MakeTestCatalog(3);
  const v1::ParamsVersion pv = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 3);
  transport_.params_script = {ParamsOutcome{.status = absl::UnavailableError("down")},
                              ServeParams(pv, &catalog), ServeParams(pv, nullptr)};
  InMemoryPrivacyLedger ledger;
  std::unique_ptr<Uploader> uploader = MakeUploader();
  absl::StatusOr<ParamsRefresh> first = uploader->RefreshParams(nullptr, ledger, stats_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind, ParamsRefresh::Kind::kAdopted);
  ASSERT_NE(first->params, nullptr);
  EXPECT_EQ(first->params->version(), 1u);
  EXPECT_EQ(clock_.sleeps().size(), 1u);  // one retry after UNAVAILABLE

  absl::StatusOr<ParamsRefresh> second = uploader->RefreshParams(first->params, ledger, stats_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->kind, ParamsRefresh::Kind::kUnchanged);
  EXPECT_EQ(second->params.get(), first->params.get());
  EXPECT_EQ(transport_.params_known_versions,
            (std::vector<std::string>{"", "", catalog.version()}));
  EXPECT_EQ(stats_.params_fetches, 2u);
}

TEST_F(UploaderTest, NewParamsForAKnownCatalogReuseIt) {
  const v1::Catalog catalog = MakeTestCatalog(3);
  transport_.params_script = {
      ServeParams(MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 3), &catalog),
      ServeParams(MakeTestParamsVersion(2, catalog, 0.5, 0.25, 0.75, 1), nullptr)};
  InMemoryPrivacyLedger ledger;
  std::unique_ptr<Uploader> uploader = MakeUploader();
  absl::StatusOr<ParamsRefresh> first = uploader->RefreshParams(nullptr, ledger, stats_);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<ParamsRefresh> second = uploader->RefreshParams(first->params, ledger, stats_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->kind, ParamsRefresh::Kind::kAdopted);
  EXPECT_EQ(second->params->version(), 2u);
  EXPECT_EQ(second->params->params().pinsets_per_ping(), 1);
  EXPECT_EQ(&second->params->catalog(), &first->params->catalog());
}

TEST_F(UploaderTest, RefusesParamsThatWouldExceedTheBudgetAndKeepsThePreviousOnes) {
  const v1::Catalog catalog = MakeTestCatalog(2);
  // Version 1: f=0.5, p=0.25, q=0.75, s=2: eps1 = 4·ln(5/3) = 2.043, eps_inf = 4·ln 3 = 4.394.
  // Version 2: f=0.1 (weaker PRR): eps1 = 4·ln(0.725/0.275) = 3.878.
  const v1::ParamsVersion pv1 = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 2);
  const v1::ParamsVersion pv2 = MakeTestParamsVersion(2, catalog, 0.1, 0.25, 0.75, 2);
  transport_.params_script = {ServeParams(pv1, &catalog), ServeParams(pv2, nullptr)};
  UploaderOptions options;
  options.epsilon_budget = 6.0;
  std::unique_ptr<Uploader> uploader = MakeUploader(options);
  InMemoryPrivacyLedger ledger;
  absl::StatusOr<ParamsRefresh> first = uploader->RefreshParams(nullptr, ledger, stats_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->kind, ParamsRefresh::Kind::kAdopted);
  // Three pings under version 1 spend min(3 · 2.043, 4.394) = 4.394.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        ledger.RecordPing(1, first->params->epsilon_one(), first->params->epsilon_inf()).ok());
  }
  EXPECT_NEAR(ledger.LifetimeEpsilon(), 4 * std::log(3.0), 1e-9);

  // 4.394 + 3.878 > 6: refused.
  absl::StatusOr<ParamsRefresh> second = uploader->RefreshParams(first->params, ledger, stats_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->kind, ParamsRefresh::Kind::kRefused);
  EXPECT_EQ(second->params.get(), first->params.get());
  EXPECT_NE(second->reason.find("budget"), std::string::npos);
  EXPECT_EQ(stats_.params_refusals, 1u);
  ASSERT_EQ(ledger.refusals(), 1u);
  const ParamsRefusal& refusal = ledger.recent_refusals().back();
  EXPECT_EQ(refusal.params_version, 2u);
  EXPECT_NEAR(refusal.epsilon_one, 4 * std::log(0.725 / 0.275), 1e-9);
  EXPECT_NEAR(refusal.lifetime_before, 4 * std::log(3.0), 1e-9);
  EXPECT_DOUBLE_EQ(refusal.budget, 6.0);
}

TEST_F(UploaderTest, ParamsFetchDoesNotRetryPermanentErrorsAndRejectsBadAnswers) {
  transport_.params_script = {
      ParamsOutcome{.status = absl::FailedPreconditionError("no params published")}};
  InMemoryPrivacyLedger ledger;
  std::unique_ptr<Uploader> uploader = MakeUploader();
  EXPECT_FALSE(uploader->RefreshParams(nullptr, ledger, stats_).ok());
  EXPECT_TRUE(clock_.sleeps().empty());

  const v1::Catalog catalog = MakeTestCatalog(2);
  transport_.params_script = {
      ServeParams(MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 2), nullptr)};
  EXPECT_EQ(uploader->RefreshParams(nullptr, ledger, stats_).status().code(),
            absl::StatusCode::kNotFound);  // catalog neither sent nor known
}

}  // namespace
}  // namespace pinning::client
