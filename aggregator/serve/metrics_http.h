// metrics_http.h: a minimal plain-HTTP endpoint serving the Prometheus text exposition at
// GET /metrics, for scraping by a Prometheus server on a loopback or internal address.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<MetricsHttpServer> http,
//                    MetricsHttpServer::Start("127.0.0.1:9464", [&] { return server->MetricsText(); }));
//   ...
//   http->Shutdown();
//
// One thread accepts and answers connections one at a time (HTTP/1.0, `Connection: close`);
// requests larger than 8 KiB or slower than 2 s are dropped. Anything but GET /metrics is 404.
// It carries only aggregate counters, never request data; it has no TLS and no auth, so it must
// not listen on a public address.
#ifndef AGGREGATOR_SERVE_METRICS_HTTP_H_
#define AGGREGATOR_SERVE_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace pinning::aggregator {

class MetricsHttpServer {
 public:
  // Start binds `address` ("host:port" with a numeric IPv4 host; port 0 picks one) and serves
  // `render()` at /metrics. UNAVAILABLE when the address cannot be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, std::function<std::string()> render);

  // The destructor calls Shutdown().
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }
  std::string address() const { return address_; }

  // Shutdown stops the thread and closes the socket. Idempotent.
  void Shutdown();

 private:
  MetricsHttpServer(int listen_fd, int wake_fd, int port, std::string address,
                    std::function<std::string()> render);
  void Run();
  void Serve(int fd);

  const int listen_fd_;
  const int wake_fd_;  // eventfd written by Shutdown to end poll()
  const int port_;
  const std::string address_;
  const std::function<std::string()> render_;
  std::thread thread_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_METRICS_HTTP_H_
