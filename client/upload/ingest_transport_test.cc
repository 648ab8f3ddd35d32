#include "client/upload/ingest_transport.h"

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

TEST(ParseRetryAfterMsTest, AcceptsDecimalMilliseconds) {
  EXPECT_EQ(ParseRetryAfterMs("200"), absl::Milliseconds(200));
  EXPECT_EQ(ParseRetryAfterMs(" 0 "), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfterMs("86400000"), absl::Hours(24));
}

TEST(ParseRetryAfterMsTest, RejectsMalformedOrOutOfRange) {
  EXPECT_FALSE(ParseRetryAfterMs("").has_value());
  EXPECT_FALSE(ParseRetryAfterMs("-5").has_value());
  EXPECT_FALSE(ParseRetryAfterMs("1.5").has_value());
  EXPECT_FALSE(ParseRetryAfterMs("12ms").has_value());
  EXPECT_FALSE(ParseRetryAfterMs("86400001").has_value());
  EXPECT_FALSE(ParseRetryAfterMs("99999999999999999999999").has_value());
}

}  // namespace
}  // namespace pinning::client
