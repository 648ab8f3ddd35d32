#include "aggregator/ingest/rejection.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

TEST(RejectionTest, CarriesCodeReasonAndMessage) {
  absl::Status s = MakeRejection(absl::StatusCode::kInvalidArgument, "bad_ping_id",
                                 "ping_id must be 16 bytes, got 3");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad_ping_id: ping_id must be 16 bytes, got 3");
  EXPECT_EQ(RejectionReason(s), "bad_ping_id");
  EXPECT_EQ(RetryAfterMs(s), std::nullopt);
}

TEST(RejectionTest, OverloadedCarriesRetryHint) {
  absl::Status s = MakeOverloaded(250, "ingest queue full");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RejectionReason(s), "overloaded");
  EXPECT_EQ(RetryAfterMs(s), 250);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("retry after 250 ms"));
}

TEST(RejectionTest, PlainStatusesHaveNoReason) {
  EXPECT_EQ(RejectionReason(absl::InternalError("x")), "");
  EXPECT_EQ(RetryAfterMs(absl::OkStatus()), std::nullopt);
}

}  // namespace
}  // namespace pinning::aggregator
