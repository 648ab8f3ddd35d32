#include "privacy/params.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacy {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

ParamsBuilder Valid() {
  return ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(2);
}

void ExpectInvalid(const ParamsBuilder& builder, const std::string& fragment) {
  absl::StatusOr<Params> params = builder.Build();
  ASSERT_FALSE(params.ok()) << fragment;
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(params.status().message()), HasSubstr(fragment));
}

TEST(ParamsBuilderTest, BuildsValidParams) {
  absl::StatusOr<Params> params = Valid().Build();
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->f(), 0.5);
  EXPECT_EQ(params->p(), 0.25);
  EXPECT_EQ(params->q(), 0.75);
  EXPECT_EQ(params->pinsets_per_ping(), 2);
  EXPECT_EQ(params->bits_per_pinset(), 2);
  EXPECT_DOUBLE_EQ(params->PStar(), 0.375);
  EXPECT_DOUBLE_EQ(params->QStar(), 0.625);
  EXPECT_EQ(params->DebugString(), "f=0.5 p=0.25 q=0.75 s=2 bits=2");
}

TEST(ParamsBuilderTest, AcceptsBoundaryValues) {
  EXPECT_TRUE(ParamsBuilder().SetF(0).SetP(0).SetQ(1).SetPinsetsPerPing(1).Build().ok());
  EXPECT_TRUE(Valid().SetF(0.999999).Build().ok());
  EXPECT_TRUE(Valid().SetBitsPerPinset(3).Build().ok());
}

TEST(ParamsBuilderTest, RejectsUnsetValues) {
  ExpectInvalid(ParamsBuilder().SetP(0.25).SetQ(0.75).SetPinsetsPerPing(1), "f is not set");
  ExpectInvalid(ParamsBuilder().SetF(0.5).SetQ(0.75).SetPinsetsPerPing(1), "p is not set");
  ExpectInvalid(ParamsBuilder().SetF(0.5).SetP(0.25).SetPinsetsPerPing(1), "q is not set");
  ExpectInvalid(ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75), "pinsets_per_ping is not set");
}

TEST(ParamsBuilderTest, RejectsOutOfRangeAndDegenerateValues) {
  ExpectInvalid(Valid().SetF(std::nan("")), "f = nan");
  ExpectInvalid(Valid().SetP(kInf), "p = inf");
  ExpectInvalid(Valid().SetQ(-kInf), "q = -inf");
  ExpectInvalid(Valid().SetF(-0.1), "f = -0.1");
  ExpectInvalid(Valid().SetF(1), "f = 1 is invalid");
  ExpectInvalid(Valid().SetF(1.5), "f = 1.5");
  ExpectInvalid(Valid().SetP(-0.01), "p = -0.01");
  ExpectInvalid(Valid().SetQ(1.01), "q = 1.01");
  ExpectInvalid(Valid().SetP(0.75), "p = 0.75 and q = 0.75");
  ExpectInvalid(Valid().SetP(0.8), "p must be < q");
  ExpectInvalid(Valid().SetPinsetsPerPing(0), "pinsets_per_ping = 0");
  ExpectInvalid(Valid().SetBitsPerPinset(0), "bits_per_pinset = 0");
}

TEST(ParamsTest, ValidateForChecksCatalogSize) {
  const Params params = *Valid().SetPinsetsPerPing(3).Build();
  EXPECT_TRUE(params.ValidateFor(3).ok());
  EXPECT_TRUE(params.ValidateFor(100).ok());
  EXPECT_EQ(params.ValidateFor(2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(params.ValidateFor(2).message()), HasSubstr("pinsets_per_ping = 3"));
  EXPECT_EQ(params.ValidateFor(0).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParamsTest, ReportedCounts) {
  const Params params = *Valid().SetPinsetsPerPing(3).Build();
  EXPECT_FALSE(params.ReportsAllPinsets(10));
  EXPECT_TRUE(params.ReportsAllPinsets(3));
  EXPECT_EQ(params.ReportedPinsets(10), 3);
  EXPECT_EQ(params.ReportedPinsets(2), 2);
  EXPECT_EQ(params.ReportedBits(10), 6);
}

TEST(ParamsTest, WholePingEpsilons) {
  // Chrome's normal noise: ε1_bit = ln(5/3), ε∞_bit = ln 3.
  const Params params = *Valid().SetPinsetsPerPing(3).Build();
  // ε1 counts the 2·min(s, K) bits of one ping.
  EXPECT_NEAR(params.EpsilonOne(10), 6 * std::log(5.0 / 3.0), 1e-12);
  EXPECT_NEAR(params.EpsilonOne(2), 4 * std::log(5.0 / 3.0), 1e-12);
  // ε∞ counts the 2·K bits whose PRR unlimited pings eventually reveal.
  EXPECT_NEAR(params.EpsilonInf(10), 20 * std::log(3.0), 1e-12);
  EXPECT_NEAR(params.EpsilonInf(3), 6 * std::log(3.0), 1e-12);
  const Params three_bits = *Valid().SetPinsetsPerPing(1).SetBitsPerPinset(3).Build();
  EXPECT_NEAR(three_bits.EpsilonOne(4), 3 * std::log(5.0 / 3.0), 1e-12);
  EXPECT_NEAR(three_bits.EpsilonInf(4), 12 * std::log(3.0), 1e-12);
}

TEST(ParamsTest, WholePingInfinities) {
  const Params no_prr = *ParamsBuilder().SetF(0).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(1).Build();
  EXPECT_EQ(no_prr.EpsilonInf(5), kInf);
  EXPECT_NEAR(no_prr.EpsilonOne(5), 2 * std::log(3.0), 1e-12);
  const Params exposed = *ParamsBuilder().SetF(0).SetP(0).SetQ(0.5).SetPinsetsPerPing(1).Build();
  EXPECT_EQ(exposed.EpsilonOne(5), kInf);
  const Params top = *ParamsBuilder().SetF(0).SetP(0.5).SetQ(1).SetPinsetsPerPing(1).Build();
  EXPECT_EQ(top.EpsilonOne(5), kInf);
}

}  // namespace
}  // namespace privacy
