#include "privacy/report_bits.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace privacy {
namespace {

Params MakeParams(int s) {
  return *ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(s).Build();
}

TEST(ReportBitsTest, PacksLsbFirst) {
  const std::vector<uint8_t> bits = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  const std::vector<uint8_t> packed = PackBits(bits);
  ASSERT_EQ(packed.size(), 2u);
  EXPECT_EQ(packed[0], 0x0D);
  EXPECT_EQ(packed[1], 0x01);
  for (size_t j = 0; j < bits.size(); ++j) EXPECT_EQ(UnpackBit(packed, j), bits[j] != 0) << j;
  EXPECT_FALSE(UnpackBit(packed, 16));
  EXPECT_FALSE(UnpackBit(packed, 1000));
  EXPECT_TRUE(PackBits({}).empty());
  EXPECT_EQ(PackBits(std::vector<uint8_t>{0, 7}), std::vector<uint8_t>{0x02});
  // The wire form: protobuf bytes are a std::string.
  const std::string wire(packed.begin(), packed.end());
  for (size_t j = 0; j < bits.size(); ++j) EXPECT_EQ(UnpackBit(wire, j), bits[j] != 0) << j;
  EXPECT_FALSE(UnpackBit(wire, 16));
}

TEST(ReportBitsTest, BitIndexAndSize) {
  EXPECT_EQ(ReportBitIndex(0, 0, 2), 0u);
  EXPECT_EQ(ReportBitIndex(3, 1, 2), 7u);
  EXPECT_EQ(ReportBitIndex(3, 2, 3), 11u);
  EXPECT_EQ(PackedSize(0), 0u);
  EXPECT_EQ(PackedSize(1), 1u);
  EXPECT_EQ(PackedSize(8), 1u);
  EXPECT_EQ(PackedSize(9), 2u);
}

TEST(ReportBitsTest, ValidateAcceptsWellFormedReports) {
  // s = 2 of K = 5: two indices, 4 bits in one byte.
  EXPECT_TRUE(ValidateReport({{1, 4}, {0x0F}}, MakeParams(2), 5).ok());
  // s = K = 5: no indices, 10 bits in two bytes.
  EXPECT_TRUE(ValidateReport({{}, {0xFF, 0x03}}, MakeParams(5), 5).ok());
  EXPECT_TRUE(ValidateReport({{0, 1, 2, 3}, {0xFF}}, MakeParams(4), 9).ok());
}

TEST(ReportBitsTest, ValidateRejectsMalformedReports) {
  const Params two = MakeParams(2);
  EXPECT_FALSE(ValidateReport({{1}, {0x0F}}, two, 5).ok());                  // too few indices
  EXPECT_FALSE(ValidateReport({{1, 2, 3}, {0x0F}}, two, 5).ok());            // too many
  EXPECT_FALSE(ValidateReport({{4, 1}, {0x0F}}, two, 5).ok());               // not ascending
  EXPECT_FALSE(ValidateReport({{2, 2}, {0x0F}}, two, 5).ok());               // duplicate
  EXPECT_FALSE(ValidateReport({{1, 5}, {0x0F}}, two, 5).ok());               // out of range
  EXPECT_FALSE(ValidateReport({{1, 4}, {}}, two, 5).ok());                   // too short
  EXPECT_FALSE(ValidateReport({{1, 4}, {0x0F, 0}}, two, 5).ok());            // too long
  EXPECT_FALSE(ValidateReport({{1, 4}, {0x10}}, two, 5).ok());               // unused bit set
  EXPECT_FALSE(ValidateReport({{0}, {0xFF, 0x03}}, MakeParams(5), 5).ok());  // indices when s = K
  EXPECT_FALSE(ValidateReport({{}, {0xFF, 0x07}}, MakeParams(5), 5).ok());   // bit 10 set
  EXPECT_FALSE(ValidateReport({{1, 4}, {0x0F}}, MakeParams(6), 5).ok());     // s > K
}

}  // namespace
}  // namespace privacy
