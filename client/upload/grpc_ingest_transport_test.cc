// GrpcIngestTransport without a server: option errors, and every call failing as UNAVAILABLE (or
// DEADLINE_EXCEEDED) within its deadline, which the uploader treats as retryable. The calls
// against a real aggregator are in tests/e2e/uploader_e2e_test.cc.
#include "client/upload/grpc_ingest_transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

// ClosedPort returns a loopback port nothing listens on (bound, then released).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

TEST(GrpcIngestTransportTest, CreateChecksItsOptions) {
  EXPECT_EQ(GrpcIngestTransport::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GrpcIngestTransport::Create({.target = "localhost:1", .ca_file = "/nonexistent.pem"})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(GrpcIngestTransportTest, CallsToNoServerFailRetryablyWithinTheirDeadline) {
  absl::StatusOr<std::unique_ptr<GrpcIngestTransport>> transport = GrpcIngestTransport::Create(
      {.target = absl::StrCat("127.0.0.1:", ClosedPort()), .insecure = true});
  ASSERT_TRUE(transport.ok()) << transport.status();
  v1::Ping ping;
  ping.set_ping_id(std::string(16, 'x'));
  const absl::Time start = absl::Now();
  SubmitOutcome submitted = (*transport)->Submit(ping, absl::Milliseconds(500));
  EXPECT_TRUE(Retryable(submitted.status)) << submitted.status;
  EXPECT_FALSE(submitted.retry_after.has_value());
  BatchOutcome batch = (*transport)->SubmitBatch({ping, ping}, absl::Milliseconds(500));
  EXPECT_TRUE(Retryable(batch.status)) << batch.status;
  ParamsOutcome params = (*transport)->GetParams("", absl::Milliseconds(500));
  EXPECT_TRUE(Retryable(params.status)) << params.status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace pinning::client
