// tcp_proxy.h: a loopback TCP forwarder that can stall, to simulate a network partition in tests.
//
// Each accepted connection is forwarded to 127.0.0.1:target_port. While partitioned, the proxy
// stops moving bytes in both directions (without closing anything): like a network whose packets
// vanish, each end sees a healthy TCP connection (the proxy's kernel acknowledges what it sends)
// that never answers. Healing resumes forwarding of what was held back.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<TcpProxy> proxy, TcpProxy::Start(pg->port()));
//   options.conninfo = absl::StrCat("host=127.0.0.1 port=", proxy->port(), " ...");
//   proxy->SetPartitioned(true);   // queries now hang until the client's own timeout
//   proxy->SetPartitioned(false);
//
// Thread safety: all methods are thread-safe.
#ifndef AGGREGATOR_STORAGE_POSTGRES_TCP_PROXY_H_
#define AGGREGATOR_STORAGE_POSTGRES_TCP_PROXY_H_

#include <netinet/in.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace pinning::aggregator::postgres {

// LoopbackAddress returns the IPv4 address 127.0.0.1:port.
sockaddr_in LoopbackAddress(int port);

class TcpProxy {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int target_port);
  // The destructor closes the listener and every forwarded connection.
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void SetPartitioned(bool partitioned) { partitioned_ = partitioned; }

 private:
  TcpProxy(int listen_fd, int port, int target_port)
      : listen_fd_(listen_fd), port_(port), target_port_(target_port) {}
  void AcceptLoop();
  void Forward(int client_fd, int server_fd);

  const int listen_fd_;
  const int port_;
  const int target_port_;
  std::atomic<bool> partitioned_{false};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<std::thread> forwarders_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_TCP_PROXY_H_
