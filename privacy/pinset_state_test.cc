#include "privacy/pinset_state.h"

#include "gtest/gtest.h"

namespace privacy {
namespace {

TEST(PinsetStateTest, MapsStatesToCheckedAndViolatedBits) {
  EXPECT_FALSE(TrueBit(PinsetState::kNotChecked, kCheckedBit));
  EXPECT_FALSE(TrueBit(PinsetState::kNotChecked, kViolatedBit));
  EXPECT_TRUE(TrueBit(PinsetState::kCheckedOk, kCheckedBit));
  EXPECT_FALSE(TrueBit(PinsetState::kCheckedOk, kViolatedBit));
  EXPECT_TRUE(TrueBit(PinsetState::kViolated, kCheckedBit));
  EXPECT_TRUE(TrueBit(PinsetState::kViolated, kViolatedBit));
  EXPECT_FALSE(TrueBit(PinsetState::kViolated, 2));
  EXPECT_FALSE(TrueBit(PinsetState::kViolated, -1));
}

TEST(PinsetStateTest, ValidatesRawBytes) {
  EXPECT_TRUE(IsValidState(PinsetState::kNotChecked));
  EXPECT_TRUE(IsValidState(PinsetState::kViolated));
  EXPECT_FALSE(IsValidState(static_cast<PinsetState>(3)));
  EXPECT_FALSE(IsValidState(static_cast<PinsetState>(255)));
}

}  // namespace
}  // namespace privacy
