#include "aggregator/http/json.h"

#include "aggregator/http/gateway.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {
namespace {

using ::testing::HasSubstr;

TEST(JsonTest, ProtoRoundTripWithSnakeCaseAndZeroFields) {
  v1::RatesResponse response;
  v1::RateSeries* series = response.add_series();
  series->set_key("Acorn Bank");
  v1::RatePoint* point = series->add_points();
  point->set_day("2024-03-01");
  point->set_sufficient(true);
  point->set_rate(0.25);
  point->set_pings(1234);
  const std::string json = ProtoToJson(response);
  EXPECT_THAT(json, HasSubstr("\"ci_low\":0"));        // zero fields are printed, snake_case
  EXPECT_THAT(json, HasSubstr("\"pings\":\"1234\""));  // 64-bit integers are strings
  EXPECT_THAT(json, HasSubstr("\"rate\":0.25"));
  v1::RatesResponse back;
  ASSERT_TRUE(JsonToProto(json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), response.SerializeAsString());
  EXPECT_EQ(JsonToProto("{\"nope\": 1}", &back).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonToProto("{", &back).code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonTest, HttpStatuses) {
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kDataLoss), 500);
}

TEST(JsonTest, ErrorBody) {
  const std::string json = ErrorJson(absl::NotFoundError("no catalog \"abc\""));
  EXPECT_EQ(json, "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"no catalog \\\"abc\\\"\"}}");
  v1::ErrorBody body;
  ASSERT_TRUE(JsonToProto(json, &body).ok());
  EXPECT_EQ(body.error().code(), "NOT_FOUND");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kUnauthenticated), "UNAUTHENTICATED");
}

}  // namespace
}  // namespace pinning::aggregator
