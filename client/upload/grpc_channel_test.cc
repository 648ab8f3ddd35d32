#include "client/upload/grpc_channel.h"

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

TEST(GrpcChannelTest, StatusCodesAndMessagesCarryOver) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  absl::Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"),
                                  "Ingest.Submit");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "Ingest.Submit: queue full");
  EXPECT_EQ(
      FromGrpcStatus(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "old day")).message(),
      "old day");
  EXPECT_EQ(StatusCodeFromInt(3), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromInt(16), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusCodeFromInt(17), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeFromInt(-1), absl::StatusCode::kUnknown);
}

TEST(GrpcChannelTest, RejectsAnEmptyTargetAndAMissingCaFile) {
  EXPECT_EQ(MakeClientChannel({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeClientChannel({.target = "localhost:1", .ca_file = "/nonexistent/ca.pem"})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(MakeClientChannel({.target = "localhost:1", .insecure = true}).ok());
}

}  // namespace
}  // namespace pinning::client
