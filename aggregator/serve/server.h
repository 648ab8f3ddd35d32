// server.h: the aggregator server (aggregatord) behind a plain C++ API.
//
// Start() opens the SQLite store in `data_dir`, loads the published parameters and catalogs,
// starts the group committer and serves, over gRPC (callback API), the Ingest, Params, Query and
// Admin services of proto/, the standard gRPC health service and server reflection.
//
//   ServerOptions options;
//   options.listen_address = "127.0.0.1:0";          // port 0: the kernel picks a free port
//   options.tls_cert_file = "server.pem";
//   options.tls_key_file = "server.key";
//   options.data_dir = "/var/lib/aggregatord";
//   options.token_file = "/etc/aggregatord/tokens";
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(std::move(options)));
//   std::cout << "listening on " << server->address() << "\n";
//   ...
//   server->Shutdown();  // stops accepting, finishes in-flight calls, drains pending commits
//
// With `http_listen_address` set it also serves the HTTP/JSON gateway with /healthz, /metrics and
// the dashboard (aggregator/http/http_gateway.h), and it always runs the spike alert monitor
// (aggregator/alerts/alert_monitor.h), whose alerts the gRPC Alerts service lists.
//
// This header deliberately includes no gRPC header; gRPC types live in server.cc.
// Thread safety: every method may be called from any thread; Shutdown() is idempotent.
#ifndef AGGREGATOR_SERVE_SERVER_H_
#define AGGREGATOR_SERVE_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/alerts/alert_monitor.h"

namespace pinning::aggregator {

// ServerOptions configures a Server. aggregatord maps its flags (or --flagfile) onto these fields.
struct ServerOptions {
  // ---- Network and TLS ----
  // host:port to listen on; port 0 picks a free port (read it back with Server::port()).
  std::string listen_address = "127.0.0.1:0";
  // PEM certificate chain and private key. Both are required unless `insecure` is set.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Serve plaintext gRPC. For tests and development only: tokens would travel in clear.
  bool insecure = false;

  // ---- Storage ----
  // "sqlite": the embedded store, data_dir/aggregator.db (one node). "postgres": a shared
  // PostgreSQL database, so several aggregator replicas can serve at once.
  std::string store = "sqlite";
  // Directory holding aggregator.db (created when missing). Required for sqlite.
  std::string data_dir;
  // SQLite page cache per connection.
  int64_t sqlite_cache_kib = 64 * 1024;
  // PostgreSQL: libpq conninfo without a password, a file holding the password (or libpq's
  // PGPASSFILE / ~/.pgpass), the schema, and the connection pool size.
  std::string postgres_conninfo;
  std::string postgres_password_file;
  std::string postgres_schema = "public";
  int postgres_pool_size = 4;
  // How often the registry reloads params and catalogs published by other replicas (zero:
  // never). It also reloads within ~200 ms after a ping names a version it does not know.
  absl::Duration registry_refresh_interval = absl::Seconds(2);

  // ---- Auth ----
  // Token file (`TOKEN ROLE NAME` lines, see auth.h). Empty: no tokens, so Query and Admin refuse
  // every call with UNAUTHENTICATED while Ingest and Params still work.
  std::string token_file;

  // ---- Parameters, catalog and privacy ----
  // A pinning.v1.Catalog in protobuf text format, or JSON when the name ends in ".json". Stored
  // (and made current) at start when its version is not stored yet. Its `version` field is
  // recomputed and must match when set.
  std::string initial_catalog_file;
  // A pinning.v1.RandomizationParams (text, or JSON when ".json"). Published as the first
  // parameter version for the current catalog when no version exists yet.
  std::string initial_params_file;
  // Ceilings on the whole-ping epsilons (DESIGN §4) of any published parameters; publishing above
  // either is FAILED_PRECONDITION.
  double max_epsilon_one = 4.0;
  double max_epsilon_inf = 8.0;

  // ---- Validation (DESIGN §7) ----
  // Vocabularies of Dimensions.product and .channel; an empty ping field is always accepted.
  std::vector<std::string> products = {"chrome", "firefox", "edge", "safari", "other"};
  std::vector<std::string> channels = {"stable", "beta", "dev", "nightly", "canary", "esr"};
  // Accepted Dimensions.major_version range (0 = unknown is always accepted).
  uint32_t min_major_version = 1;
  uint32_t max_major_version = 1000;
  // Day window (see aggregator/ingest/validator.h): a ping for day d is accepted while
  // today - max_age_days <= d <= today + max_future_days (clock skew), and ping ids are remembered
  // for exactly-once until their day is older than today - retention_days. Requires
  // retention_days > max_age_days, so a retry of any acceptable ping is recognised.
  int max_age_days = 7;
  int max_future_days = 1;
  int retention_days = 8;

  // ---- Group commit and load shedding ----
  // Most pings per commit transaction, longest wait for a batch to fill, and the bounded queue's
  // capacity (a full queue answers RESOURCE_EXHAUSTED with a retry-after-ms hint). A longer wait
  // makes fewer, larger commits but holds every ping (and its client) longer: with clients that
  // keep a fixed number of calls outstanding, throughput is calls / latency, and bench/ingest_load
  // measured ~20% less Submit throughput at 5 ms than at 2 ms (docs/benchmarks.md).
  int commit_max_batch = 8192;
  absl::Duration commit_max_wait = absl::Milliseconds(2);
  int queue_capacity = 65536;
  // Threads that finish ingest calls once their commit is durable; each batch's calls are split
  // among them. On 2 cores, 2 threads measured no better than 1 (docs/benchmarks.md); more may
  // help where finishing a batch's calls takes longer than committing the next batch.
  int completion_threads = 1;
  // Retry hint sent with RESOURCE_EXHAUSTED in the `retry-after-ms` trailing metadata.
  int64_t retry_after_ms = 200;
  // Most pings one SubmitBatch stream may have waiting for their commit; the stream stops reading
  // (flow control) until commits complete.
  int stream_max_in_flight = 4096;

  // ---- HTTP gateway, dashboard, alerts ----
  // host:port (numeric host) of the HTTP/JSON gateway; empty: no gateway. It uses the same TLS
  // files (or `insecure`) and the same tokens as gRPC.
  std::string http_listen_address;
  // Folder of the dashboard's files served by the gateway; empty: no dashboard.
  std::string dashboard_dir;
  // Spike alerts (rule, evaluation interval, pager hook). recent_days is raised to at least
  // max_age_days + 2 so every day that can still receive pings is re-evaluated.
  AlertMonitorOptions alerts;

  // ---- Shutdown ----
  // How long Shutdown() lets in-flight calls finish before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
};

class Server {
 public:
  // Start validates `options`, opens the store, binds the listener and starts serving.
  // INVALID_ARGUMENT for bad options (names the option), UNAVAILABLE when the address cannot be
  // bound or the store cannot be opened, NOT_FOUND for missing files.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);

  // The destructor calls Shutdown().
  virtual ~Server() = default;

  // port returns the bound TCP port.
  virtual int port() const = 0;
  // address returns "host:port" with the bound port.
  virtual std::string address() const = 0;
  // http_port returns the HTTP gateway's bound port, 0 when it is off; http_address its
  // "host:port" ("" when off).
  virtual int http_port() const = 0;
  virtual std::string http_address() const = 0;

  // Shutdown stops the HTTP gateway and the alert monitor, marks the health service NOT_SERVING,
  // stops accepting calls, lets in-flight calls
  // finish (waiting for their commits) for up to shutdown_grace, then stops the committer after it
  // has committed everything queued, and closes the store. Blocks until done; idempotent.
  virtual void Shutdown() = 0;

  // Wait blocks until Shutdown() has completed (called from another thread or a signal handler
  // thread).
  virtual void Wait() = 0;

  // MetricsText returns the server's metrics in Prometheus text format.
  virtual std::string MetricsText() const = 0;

  // ReloadTokens re-reads `token_file` and, when it parses, makes its tokens the ones gRPC and
  // HTTP accept from the next call on (token rotation without a restart; aggregatord does it on
  // SIGHUP). On error (NOT_FOUND, INVALID_ARGUMENT naming the line; FAILED_PRECONDITION without a
  // token file) the tokens in use stay. Counted in
  // pinning_token_reloads_total{result="ok"|"error"}.
  [[nodiscard]] virtual absl::Status ReloadTokens() = 0;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_SERVER_H_
