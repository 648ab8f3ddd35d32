#include "aggregator/serve/grpc_status.h"

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

TEST(GrpcStatusTest, OkMapsToOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

// Every code is written out on both sides, so a mismatch in numbering would fail here rather than
// being assumed by the code under test.
TEST(GrpcStatusTest, EveryCodeRoundTripsWithItsMessage) {
  const struct {
    absl::StatusCode absl_code;
    grpc::StatusCode grpc_code;
  } kCases[] = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& c : kCases) {
    const grpc::Status g = ToGrpcStatus(absl::Status(c.absl_code, "why"));
    EXPECT_EQ(g.error_code(), c.grpc_code);
    EXPECT_EQ(g.error_message(), "why");
    const absl::Status a = FromGrpcStatus(grpc::Status(c.grpc_code, "because"));
    EXPECT_EQ(a.code(), c.absl_code);
    EXPECT_EQ(a.message(), "because");
  }
}

TEST(GrpcStatusTest, OutOfRangeCodeBecomesUnknown) {
  const absl::Status a = FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(99), "odd"));
  EXPECT_EQ(a.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(a.message(), "odd");
}

}  // namespace
}  // namespace pinning::aggregator
