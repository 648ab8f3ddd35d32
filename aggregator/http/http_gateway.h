// http_gateway.h: aggregatord's HTTP/JSON front end: the query API as JSON, /healthz, /metrics,
// and the web dashboard.
//
// Routes (GET only; anything else is 405):
//   /healthz                 200 {"status":"SERVING"} or 503 {"status":"NOT_SERVING"}; no token
//   /metrics                 Prometheus text format 0.0.4; no token (aggregate counters only)
//   /api/v1/rates            ?from=YYYY-MM-DD&to=YYYY-MM-DD (required)
//                            [&group_by=organization|pinset][&key=K]... [&product=P][&channel=C]
//                            [&major_version=N][&per_day=true|false]    -> RatesResponse
//   /api/v1/catalog          [?version=V]                               -> Catalog
//   /api/v1/params                                                      -> ListParamsResponse
//   /api/v1/privacy                                                     -> PrivacySummary
//   /api/v1/events           [?from=&to=&organization=]                 -> EventsResponse
//   /api/v1/alerts           [?from=&to=&organization=]                 -> AlertsResponse
//   /, /<file>               the dashboard's files from `dashboard_dir` (index.html at /)
// /api/ routes need `Authorization: Bearer TOKEN` with the reader or privacy-admin role, checked
// by the same TokenStore as gRPC (aggregator/serve/auth.h). Bodies are protobuf's JSON mapping of
// the messages named (json.h). Every error is {"error": {"code": "...", "message": "..."}} with the
// HTTP status of its canonical code (401 carries `WWW-Authenticate: Bearer`); unknown query
// parameters are INVALID_ARGUMENT, so typos do not silently widen a query.
//
// The dashboard's files are read once at Start (regular files directly in dashboard_dir; names
// only, so no path can escape the folder) and served from memory.
//
//   HttpOptions options;
//   options.listen_address = "127.0.0.1:0";
//   options.tls_cert_file = "server.pem";
//   options.tls_key_file = "server.key";
//   options.dashboard_dir = "/usr/share/aggregatord/dashboard";
//   ASSIGN_OR_RETURN(std::unique_ptr<HttpGateway> gateway,
//                    HttpGateway::Start(options, &backend, &tokens));
//   std::cout << "http on " << gateway->address() << "\n";
//   gateway->Shutdown();
//
// Thread safety: Start and Shutdown may be called from any thread; requests are served on
// `threads` worker threads.
#ifndef AGGREGATOR_HTTP_HTTP_GATEWAY_H_
#define AGGREGATOR_HTTP_HTTP_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/http/backend.h"
#include "aggregator/metrics/metrics.h"
#include "aggregator/serve/auth.h"

namespace pinning::aggregator {

struct HttpOptions {
  // host:port with a numeric IPv4 or IPv6 host (IPv6 in brackets); port 0 picks a free port.
  std::string listen_address = "127.0.0.1:0";
  // PEM certificate chain and private key for HTTPS. Required unless `insecure`.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Serve plain HTTP: tests and development only (tokens would travel in clear).
  bool insecure = false;
  // Folder with the dashboard's files (index.html, app.js, ...). Empty: no dashboard (404 at /).
  std::string dashboard_dir;
  // Worker threads. cpp-httplib serves each connection on one worker for the connection's whole
  // life, including idle keep-alive time, so this bounds the connections served at once: a
  // browser opens up to 6 per page. Further connections wait for a free worker.
  int threads = 32;
  // How long an idle keep-alive connection keeps its worker.
  absl::Duration keep_alive_timeout = absl::Seconds(2);
  // Read and write timeouts of a connection (a client that stalls holds a worker this long).
  absl::Duration io_timeout = absl::Seconds(5);
};

class HttpGateway {
 public:
  // Start validates `options`, loads the dashboard files, binds and starts serving. `backend`,
  // `tokens` and `metrics` (optional: null records nothing) must outlive the gateway. It registers
  // pinning_http_responses_total{status} and the API latency histogram
  // pinning_http_api_latency_seconds. INVALID_ARGUMENT for bad options (names the option),
  // NOT_FOUND when dashboard_dir or a TLS file cannot be read, UNAVAILABLE when the address cannot
  // be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(
      const HttpOptions& options, Backend* backend, const TokenStore* tokens,
      MetricsRegistry* metrics = nullptr);

  // The destructor calls Shutdown().
  virtual ~HttpGateway() = default;

  // port returns the bound TCP port; address returns "host:port" with it.
  virtual int port() const = 0;
  virtual std::string address() const = 0;

  // Shutdown stops accepting, finishes requests in progress and joins the threads. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_HTTP_HTTP_GATEWAY_H_
