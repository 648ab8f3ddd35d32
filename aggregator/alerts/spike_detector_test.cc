#include "aggregator/alerts/spike_detector.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr DayNumber kDay = 19900;

v1::RatePoint Point(double rate, double se, uint64_t pings, bool sufficient = true) {
  v1::RatePoint point;
  point.set_day(FormatDay(kDay));
  point.set_sufficient(sufficient);
  point.set_rate(rate);
  point.set_std_error(se);
  point.set_pings(pings);
  return point;
}

TEST(SpikeRuleTest, Validate) {
  EXPECT_TRUE(ValidateSpikeRule({}).ok());
  EXPECT_EQ(ValidateSpikeRule({.z = 0}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSpikeRule({.z = NAN}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSpikeRule({.baseline_days = 0}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSpikeRule({.min_pings = -1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSpikeRule({.min_increase = -0.1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RuleName({}), "interval_above_baseline(z=4, baseline_days=7)");
}

// Reference values of the standard normal survival function (Abramowitz and Stegun, table 26.1).
TEST(SpikeRuleTest, FalseAlarmProbability) {
  // ρ = 0: today's interval against an exact baseline: 1 − Φ(z).
  EXPECT_NEAR(FalseAlarmProbability(1.959963984540054, 0), 0.025, 1e-9);
  EXPECT_NEAR(FalseAlarmProbability(1.0, 0), 0.158655253931457, 1e-12);
  // ρ = 1: z·2/sqrt(2) = z·sqrt(2); z = 1 → 1 − Φ(1.41421) = 0.0786496.
  EXPECT_NEAR(FalseAlarmProbability(1.0, 1.0), 0.0786496035251426, 1e-9);
  // Default rule with equal daily volumes: ρ = 1/sqrt(7), z_eff = 5.1566, P ≈ 1.26e-7.
  const double p = FalseAlarmProbability(4.0, 1 / std::sqrt(7.0));
  EXPECT_GT(p, 1.0e-7);
  EXPECT_LT(p, 1.5e-7);
  // Never above the ρ = 0 bound.
  for (double rho : {0.0, 0.1, 0.5, 1.0, 3.0}) {
    EXPECT_LE(FalseAlarmProbability(4.0, rho), FalseAlarmProbability(4.0, 0) + 1e-15);
  }
}

TEST(EvaluateSpikeTest, Table) {
  const SpikeRuleOptions rule;  // z = 4
  struct Case {
    const char* name;
    v1::RatePoint today;
    v1::RatePoint baseline;
    SpikeRuleOptions rule;
    bool fires;
  };
  const std::vector<Case> cases = {
      // 0.30 − 4·0.02 = 0.22 > 0.02 + 4·0.005 = 0.04.
      {"clear spike", Point(0.30, 0.02, 5000), Point(0.02, 0.005, 35000), rule, true},
      // 0.10 − 4·0.02 = 0.02 < 0.04: intervals overlap.
      {"overlap", Point(0.10, 0.02, 5000), Point(0.02, 0.005, 35000), rule, false},
      // Just above: 0.121 − 0.08 = 0.041 > 0.04.
      {"just above", Point(0.121, 0.02, 5000), Point(0.02, 0.005, 35000), rule, true},
      {"just below", Point(0.119, 0.02, 5000), Point(0.02, 0.005, 35000), rule, false},
      {"lower z fires", Point(0.10, 0.02, 5000), Point(0.02, 0.005, 35000), {.z = 2}, true},
      {"drop never fires", Point(0.001, 0.0001, 5000), Point(0.30, 0.01, 35000), rule, false},
      {"today insufficient", Point(0.30, 0.02, 5000, false), Point(0.02, 0.005, 35000), rule,
       false},
      {"baseline insufficient", Point(0.30, 0.02, 5000), Point(0.02, 0.005, 35000, false), rule,
       false},
      {"too few pings today", Point(0.30, 0.02, 99), Point(0.02, 0.005, 35000), rule, false},
      {"too few baseline pings", Point(0.30, 0.02, 5000), Point(0.02, 0.005, 50), rule, false},
      {"below min_increase",
       Point(0.30, 0.02, 5000),
       Point(0.02, 0.005, 35000),
       {.min_increase = 0.5},
       false},
  };
  for (const Case& c : cases) {
    std::optional<v1::Alert> alert =
        EvaluateSpike("Acorn Bank", c.today, c.baseline, kDay - 7, kDay - 1, c.rule);
    EXPECT_EQ(alert.has_value(), c.fires) << c.name;
  }
}

TEST(EvaluateSpikeTest, AlertFields) {
  std::optional<v1::Alert> alert = EvaluateSpike("Acorn Bank", Point(0.30, 0.02, 5000),
                                                 Point(0.02, 0.005, 35000), kDay - 7, kDay - 1, {});
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->id(), "Acorn Bank/" + FormatDay(kDay));
  EXPECT_EQ(alert->organization(), "Acorn Bank");
  EXPECT_EQ(alert->day(), FormatDay(kDay));
  EXPECT_NEAR(alert->low(), 0.22, 1e-12);
  EXPECT_NEAR(alert->high(), 0.38, 1e-12);
  EXPECT_NEAR(alert->baseline_low(), 0.0, 1e-12);  // 0.02 − 0.02 clamped at 0
  EXPECT_NEAR(alert->baseline_high(), 0.04, 1e-12);
  EXPECT_EQ(alert->baseline_from_day(), FormatDay(kDay - 7));
  EXPECT_EQ(alert->baseline_to_day(), FormatDay(kDay - 1));
  EXPECT_EQ(alert->pings(), 5000u);
  EXPECT_EQ(alert->baseline_pings(), 35000u);
  EXPECT_TRUE(alert->active());
  EXPECT_THAT(alert->message(), HasSubstr("30.00%"));
  EXPECT_THAT(alert->message(), HasSubstr("7-day baseline 2.00%"));
}

// DetectSpikes asks for the per-day series once and a pooled baseline per day, and pairs them.
TEST(DetectSpikesTest, PairsDaysWithTheirBaselines) {
  std::vector<v1::RatesRequest> requests;
  RatesFn rates = [&](const v1::RatesRequest& request) -> absl::StatusOr<v1::RatesResponse> {
    requests.push_back(request);
    v1::RatesResponse response;
    for (const char* org : {"A", "B"}) {
      v1::RateSeries* series = response.add_series();
      series->set_key(org);
      series->set_organization(org);
      if (request.per_day()) {
        for (DayNumber d = *ParseDay(request.from_day()); d <= *ParseDay(request.to_day()); ++d) {
          v1::RatePoint* p = series->add_points();
          *p = Point(0.02, 0.005, 1000);
          p->set_day(FormatDay(d));
          // B spikes on kDay + 1.
          if (std::string(org) == "B" && d == kDay + 1) p->set_rate(0.5);
        }
      } else {
        *series->add_points() = Point(0.02, 0.002, 7000);
        series->mutable_points(0)->clear_day();
      }
    }
    return response;
  };
  absl::StatusOr<std::vector<v1::Alert>> alerts = DetectSpikes(rates, kDay, kDay + 2, {});
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].organization(), "B");
  EXPECT_EQ((*alerts)[0].day(), FormatDay(kDay + 1));
  EXPECT_EQ((*alerts)[0].baseline_from_day(), FormatDay(kDay - 6));
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_TRUE(requests[0].per_day());
  EXPECT_EQ(requests[0].from_day(), FormatDay(kDay));
  EXPECT_EQ(requests[0].to_day(), FormatDay(kDay + 2));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_FALSE(requests[i].per_day());
    EXPECT_EQ(requests[i].from_day(), FormatDay(kDay + i - 1 - 7));
    EXPECT_EQ(requests[i].to_day(), FormatDay(kDay + i - 2));
    EXPECT_EQ(requests[i].group_by(), v1::GROUP_BY_ORGANIZATION);
  }
}

TEST(DetectSpikesTest, PassesErrorsAndOrganizationFilter) {
  v1::RatesRequest seen;
  RatesFn failing = [&](const v1::RatesRequest& request) -> absl::StatusOr<v1::RatesResponse> {
    seen = request;
    return absl::UnavailableError("store down");
  };
  EXPECT_EQ(DetectSpikes(failing, kDay, kDay, {}, {"A", "C"}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(seen.keys(), ElementsAre("A", "C"));
  EXPECT_EQ(DetectSpikes(failing, kDay + 1, kDay, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DetectSpikes(failing, kDay, kDay, {.z = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator
