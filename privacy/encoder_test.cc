#include "privacy/encoder.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacy {
namespace {

using ::testing::HasSubstr;

Params MakeParams(double f, double p, double q, int s, int bits = 2) {
  return *ParamsBuilder()
              .SetF(f)
              .SetP(p)
              .SetQ(q)
              .SetPinsetsPerPing(s)
              .SetBitsPerPinset(bits)
              .Build();
}

std::vector<uint8_t> Secret(uint8_t fill) { return std::vector<uint8_t>(kClientSecretSize, fill); }

std::vector<uint8_t> RandomSecret(RandomSource& rng) {
  std::vector<uint8_t> secret(kClientSecretSize);
  rng.FillBytes(absl::MakeSpan(secret));
  return secret;
}

Encoder MakeEncoder(const Params& params, int k, absl::Span<const uint8_t> secret,
                    RandomSource* rng, const std::string& catalog = "cat-1") {
  absl::StatusOr<Encoder> encoder = Encoder::Create(
      {.params = params, .num_pinsets = k, .params_version = 7, .catalog_version = catalog}, secret,
      rng);
  EXPECT_TRUE(encoder.ok()) << encoder.status();
  return *std::move(encoder);
}

TEST(EncoderTest, CreateRejectsBadConfigurations) {
  SeededRandomSource rng(1);
  const std::vector<uint8_t> secret = Secret(1);
  const Params params = MakeParams(0.5, 0.25, 0.75, 3);
  auto create = [&](int k, absl::Span<const uint8_t> s, RandomSource* r, std::string catalog) {
    return Encoder::Create({.params = params,
                            .num_pinsets = k,
                            .params_version = 1,
                            .catalog_version = catalog},
                           s, r)
        .status();
  };
  EXPECT_TRUE(create(3, secret, &rng, "c").ok());
  EXPECT_EQ(create(2, secret, &rng, "c").code(), absl::StatusCode::kInvalidArgument);  // s > K
  EXPECT_EQ(create(0, secret, &rng, "c").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(kMaxPinsets + 1, secret, &rng, "c").code(), absl::StatusCode::kInvalidArgument);
  const std::vector<uint8_t> short_secret(31, 1);
  EXPECT_THAT(std::string(create(3, short_secret, &rng, "c").message()), HasSubstr("31 bytes"));
  EXPECT_EQ(create(3, secret, nullptr, "c").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(3, secret, &rng, std::string(kMaxCatalogVersionSize + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EncoderTest, PrrMessageIsCanonical) {
  const std::string expected(
      "PRR1"
      "\x01\x02\x03\x04"
      "\x00\x00\x00\x02"
      "ab"
      "\x00\x00\x01\x05"
      "\x00\x00\x00\x01"
      "\x01",
      23);
  EXPECT_EQ(Encoder::PrrMessage(0x01020304, "ab", 0x105, 1, true), expected);
  EXPECT_EQ(Encoder::PrrMessage(0, "", 0, 0, false), std::string("PRR1" + std::string(17, '\0')));
}

// The PRR rule recomputed independently with OpenSSL's one-shot HMAC and integer thresholds that
// are exact for these f: T = f·2^63.
TEST(EncoderTest, PermanentBitFollowsHmacRule) {
  SeededRandomSource rng(2);
  const std::vector<uint8_t> secret = RandomSecret(rng);
  const std::map<double, uint64_t> thresholds = {
      {0.5, uint64_t{1} << 62}, {0.25, uint64_t{1} << 61}, {0.75, uint64_t{3} << 61}};
  for (const auto& [f, threshold] : thresholds) {
    Encoder encoder = MakeEncoder(MakeParams(f, 0.25, 0.75, 1), 20, secret, &rng, "catalog-v9");
    int forced = 0;
    for (uint32_t pinset = 0; pinset < 20; ++pinset) {
      for (int bit = 0; bit < 2; ++bit) {
        for (bool truth : {false, true}) {
          const std::string message = Encoder::PrrMessage(7, "catalog-v9", pinset, bit, truth);
          unsigned char mac[32];
          unsigned int len = 0;
          HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
          uint64_t u = 0;
          for (int i = 0; i < 8; ++i) u = (u << 8) | mac[i];
          const bool expected = u < threshold ? true : (u < 2 * threshold ? false : truth);
          forced += u < 2 * threshold;
          absl::StatusOr<bool> got = encoder.PermanentBit(pinset, bit, truth);
          ASSERT_TRUE(got.ok());
          EXPECT_EQ(*got, expected) << "f=" << f << " pinset=" << pinset;
        }
      }
    }
    EXPECT_GT(forced, 0);
  }
}

TEST(EncoderTest, PermanentBitRejectsOutOfRangeIndices) {
  SeededRandomSource rng(3);
  Encoder encoder = MakeEncoder(MakeParams(0.5, 0.25, 0.75, 1), 4, Secret(3), &rng);
  EXPECT_EQ(encoder.PermanentBit(4, 0, true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoder.PermanentBit(0, 2, true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoder.PermanentBit(0, -1, true).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EncoderTest, PrrIsMemoizedPerSecretAndConfiguration) {
  SeededRandomSource rng(4);
  const Params params = MakeParams(0.5, 0.25, 0.75, 1);
  const std::vector<uint8_t> secret = RandomSecret(rng);
  Encoder a = MakeEncoder(params, 64, secret, &rng);
  Encoder b = MakeEncoder(params, 64, secret, &rng);
  Encoder other_secret = MakeEncoder(params, 64, RandomSecret(rng), &rng);
  Encoder other_catalog = MakeEncoder(params, 64, secret, &rng, "cat-2");
  int differ_secret = 0, differ_catalog = 0;
  for (uint32_t i = 0; i < 64; ++i) {
    const bool bit = *a.PermanentBit(i, 1, false);
    EXPECT_EQ(bit, *b.PermanentBit(i, 1, false));
    EXPECT_EQ(bit, *a.PermanentBit(i, 1, false));
    differ_secret += bit != *other_secret.PermanentBit(i, 1, false);
    differ_catalog += bit != *other_catalog.PermanentBit(i, 1, false);
  }
  // Independent PRRs differ with probability 2·(f/2)(1−f/2) = 3/8 per bit: about 24 of 64.
  EXPECT_GT(differ_secret, 8);
  EXPECT_GT(differ_catalog, 8);
}

TEST(EncoderTest, NoNoiseRoundTripsTheTruth) {
  SeededRandomSource rng(5);
  // f = 0, p = 0, q = 1: the report is the truth.
  Encoder all = MakeEncoder(MakeParams(0, 0, 1, 4), 4, Secret(5), &rng);
  const std::vector<PinsetState> states = {PinsetState::kViolated, PinsetState::kNotChecked,
                                           PinsetState::kCheckedOk, PinsetState::kViolated};
  absl::StatusOr<EncodedReport> report = all.Encode(states);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->pinset_indices.empty());
  // Bits (checked, violated) per pinset: 11 00 10 11 -> LSB first 0b11010011.
  EXPECT_EQ(report->bits, std::vector<uint8_t>{0xD3});

  Encoder subset = MakeEncoder(MakeParams(0, 0, 1, 2), 4, Secret(5), &rng);
  for (int trial = 0; trial < 50; ++trial) {
    absl::StatusOr<EncodedReport> r = subset.Encode(states);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(ValidateReport(*r, subset.params(), 4).ok());
    for (size_t pos = 0; pos < 2; ++pos) {
      const PinsetState state = states[r->pinset_indices[pos]];
      EXPECT_EQ(UnpackBit(r->bits, ReportBitIndex(pos, kCheckedBit, 2)),
                TrueBit(state, kCheckedBit));
      EXPECT_EQ(UnpackBit(r->bits, ReportBitIndex(pos, kViolatedBit, 2)),
                TrueBit(state, kViolatedBit));
    }
  }
}

TEST(EncoderTest, ReportsAreWellFormedAndDeterministicForASeed) {
  const std::vector<uint8_t> secret = Secret(6);
  for (int s : {1, 3, 7, 13}) {
    SeededRandomSource rng_a(60), rng_b(60);
    Encoder a = MakeEncoder(MakeParams(0.3, 0.2, 0.7, s), 13, secret, &rng_a);
    Encoder b = MakeEncoder(MakeParams(0.3, 0.2, 0.7, s), 13, secret, &rng_b);
    std::vector<PinsetState> states(13, PinsetState::kCheckedOk);
    states[3] = PinsetState::kViolated;
    for (int trial = 0; trial < 100; ++trial) {
      absl::StatusOr<EncodedReport> ra = a.Encode(states);
      absl::StatusOr<EncodedReport> rb = b.Encode(states);
      ASSERT_TRUE(ra.ok() && rb.ok());
      EXPECT_TRUE(ValidateReport(*ra, a.params(), 13).ok()) << "s=" << s;
      EXPECT_EQ(*ra, *rb);
    }
  }
}

TEST(EncoderTest, SubsetsAreUniform) {
  SeededRandomSource rng(7);
  Encoder encoder = MakeEncoder(MakeParams(0.5, 0.25, 0.75, 2), 5, Secret(7), &rng);
  const std::vector<PinsetState> states(5, PinsetState::kNotChecked);
  std::map<std::vector<uint32_t>, int> counts;
  constexpr int kPings = 50000;
  for (int i = 0; i < kPings; ++i) ++counts[encoder.Encode(states)->pinset_indices];
  ASSERT_EQ(counts.size(), 10u);  // C(5, 2)
  double chi2 = 0;
  const double expected = kPings / 10.0;
  for (const auto& [subset, c] : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.88);  // 9 degrees of freedom, P = 0.001
}

TEST(EncoderTest, PrrAndIrrFrequencies) {
  // Over many clients, P(PRR = 1 | truth) = f/2 + (1−f)·truth; for one client, P(report = 1 | PRR
  // bit) = q or p. Both within 4 standard errors.
  SeededRandomSource rng(8);
  const double f = 0.3, p = 0.2, q = 0.7;
  const Params params = MakeParams(f, p, q, 1);
  constexpr int kClients = 20000;
  int ones_given_zero = 0, ones_given_one = 0;
  for (int i = 0; i < kClients; ++i) {
    Encoder encoder = MakeEncoder(params, 1, RandomSecret(rng), &rng);
    ones_given_zero += *encoder.PermanentBit(0, 0, false);
    ones_given_one += *encoder.PermanentBit(0, 0, true);
  }
  const double se = std::sqrt(0.15 * 0.85 / kClients);
  EXPECT_NEAR(ones_given_zero / static_cast<double>(kClients), f / 2, 4 * se);
  EXPECT_NEAR(ones_given_one / static_cast<double>(kClients), 1 - f / 2, 4 * se);

  Encoder client = MakeEncoder(params, 1, RandomSecret(rng), &rng);
  const bool prr_checked = *client.PermanentBit(0, kCheckedBit, true);
  const bool prr_violated = *client.PermanentBit(0, kViolatedBit, false);
  constexpr int kPings = 20000;
  int checked_ones = 0, violated_ones = 0;
  for (int i = 0; i < kPings; ++i) {
    absl::StatusOr<EncodedReport> r = client.Encode({PinsetState::kCheckedOk});
    checked_ones += UnpackBit(r->bits, kCheckedBit);
    violated_ones += UnpackBit(r->bits, kViolatedBit);
  }
  const double rate_checked = prr_checked ? q : p;
  const double rate_violated = prr_violated ? q : p;
  EXPECT_NEAR(checked_ones / static_cast<double>(kPings), rate_checked,
              4 * std::sqrt(rate_checked * (1 - rate_checked) / kPings));
  EXPECT_NEAR(violated_ones / static_cast<double>(kPings), rate_violated,
              4 * std::sqrt(rate_violated * (1 - rate_violated) / kPings));
}

TEST(EncoderTest, RejectsBadInputs) {
  SeededRandomSource rng(9);
  Encoder encoder = MakeEncoder(MakeParams(0.5, 0.25, 0.75, 2), 3, Secret(9), &rng);
  EXPECT_EQ(encoder.Encode({PinsetState::kCheckedOk}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      encoder
          .Encode({PinsetState::kCheckedOk, static_cast<PinsetState>(3), PinsetState::kCheckedOk})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoder.EncodeTrueBits(std::vector<uint8_t>{0, 1, 0, 1, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoder.EncodeTrueBits(std::vector<uint8_t>{0, 1, 0, 2, 0, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EncoderTest, EncodesMoreBitsPerPinset) {
  SeededRandomSource rng(10);
  Encoder three = MakeEncoder(MakeParams(0, 0, 1, 3, 3), 3, Secret(10), &rng);
  EXPECT_EQ(three.Encode(std::vector<PinsetState>(3, PinsetState::kCheckedOk)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<EncodedReport> r =
      three.EncodeTrueBits(std::vector<uint8_t>{1, 0, 1, 0, 0, 0, 1, 1, 1});
  ASSERT_TRUE(r.ok()) << r.status();
  // No noise: bits 0,2,6,7,8 set -> 0b11000101, 0b1.
  EXPECT_EQ(r->bits, (std::vector<uint8_t>{0xC5, 0x01}));
}

}  // namespace
}  // namespace privacy
