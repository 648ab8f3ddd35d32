// GrpcAggregatorClient's option checks and token files; its calls against a real aggregator are
// exercised by tests/e2e (population_coverage_test, pinsim_test).
#include "client/sim/aggregator_client.h"

#include <fstream>

#include "gtest/gtest.h"

namespace pinning::client::sim {
namespace {

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(AggregatorClientTest, TokenFileIsItsFirstLineTrimmed) {
  absl::StatusOr<std::string> token =
      ReadTokenFile(WriteFile("token", "  0123456789abcdef \nsecond line\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "0123456789abcdef");
  EXPECT_EQ(ReadTokenFile(WriteFile("empty", "\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTokenFile("/nonexistent/token").status().code(), absl::StatusCode::kNotFound);
}

TEST(AggregatorClientTest, CreateNeedsATargetAndAToken) {
  EXPECT_EQ(GrpcAggregatorClient::Create({.token = "t"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GrpcAggregatorClient::Create({.target = "localhost:1"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      GrpcAggregatorClient::Create({.target = "localhost:1", .insecure = true, .token = "t"}).ok());
}

}  // namespace
}  // namespace pinning::client::sim
