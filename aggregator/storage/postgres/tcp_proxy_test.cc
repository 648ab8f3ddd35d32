#include "aggregator/storage/postgres/tcp_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

// ReadWithin returns what arrives on `fd` within `ms` milliseconds ("" when nothing).
std::string ReadWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return "";
  char buffer[64];
  const ssize_t n = read(fd, buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, n) : "";
}

TEST(TcpProxyTest, ForwardsHoldsWhilePartitionedAndResumes) {
  const int target = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = LoopbackAddress(0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(target, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(target, 4), 0);
  ASSERT_EQ(getsockname(target, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy = TcpProxy::Start(ntohs(addr.sin_port));
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  const int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in via = LoopbackAddress((*proxy)->port());
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&via), sizeof(via)), 0);
  const int server = accept(target, nullptr, nullptr);
  ASSERT_GE(server, 0);

  ASSERT_EQ(write(client, "hello", 5), 5);
  EXPECT_EQ(ReadWithin(server, 2000), "hello");
  ASSERT_EQ(write(server, "back", 4), 4);
  EXPECT_EQ(ReadWithin(client, 2000), "back");

  (*proxy)->SetPartitioned(true);
  ASSERT_EQ(write(client, "held", 4), 4);
  EXPECT_EQ(ReadWithin(server, 300), "");  // nothing crosses, nothing is closed
  (*proxy)->SetPartitioned(false);
  EXPECT_EQ(ReadWithin(server, 2000), "held");

  close(client);
  close(server);
  close(target);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
