#include "aggregator/storage/postgres/tcp_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace pinning::aggregator::postgres {

sockaddr_in LoopbackAddress(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

namespace {

// Copies what is readable on `from` to `to`; false when `from` is closed or an error occurs.
bool Pump(int from, int to) {
  char buffer[16384];
  const ssize_t n = read(from, buffer, sizeof(buffer));
  if (n <= 0) return false;
  for (ssize_t done = 0; done < n;) {
    const ssize_t w = write(to, buffer + done, static_cast<size_t>(n - done));
    if (w <= 0) return false;
    done += w;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int target_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = LoopbackAddress(0);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 64) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat("proxy listen: ", std::strerror(errno)));
  }
  std::unique_ptr<TcpProxy> proxy(new TcpProxy(fd, ntohs(addr.sin_port), target_port));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> forwarders;
  {
    absl::MutexLock lock(&mu_);
    forwarders.swap(forwarders_);
  }
  for (std::thread& t : forwarders) t.join();
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd fd{listen_fd_, POLLIN, 0};
    if (poll(&fd, 1, 50) <= 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in target = LoopbackAddress(target_port_);
    if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&target), sizeof(target)) != 0) {
      close(client);
      if (server >= 0) close(server);
      continue;
    }
    absl::MutexLock lock(&mu_);
    forwarders_.emplace_back([this, client, server] { Forward(client, server); });
  }
}

void TcpProxy::Forward(int client_fd, int server_fd) {
  while (!stopping_) {
    if (partitioned_) {  // hold everything back; the kernel buffers and then the senders stall
      usleep(20000);
      continue;
    }
    pollfd fds[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
    if (poll(fds, 2, 50) <= 0) continue;
    if (partitioned_) continue;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !Pump(client_fd, server_fd)) break;
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && !Pump(server_fd, client_fd)) break;
  }
  close(client_fd);
  close(server_fd);
}

}  // namespace pinning::aggregator::postgres
