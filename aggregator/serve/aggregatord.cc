// aggregatord: the pinning-telemetry aggregator server.
//
//   aggregatord --listen=0.0.0.0:8443 --tls_cert=server.pem --tls_key=server.key
//       --data_dir=/var/lib/aggregatord --token_file=/etc/aggregatord/tokens
//       --initial_catalog=catalog.json --initial_params=params.textproto   (one command line)
//   aggregatord --flagfile=/etc/aggregatord/aggregatord.flags    # the same, one flag per line
//
// On start it prints machine-readable lines on stdout: `http on HOST:PORT` when the HTTP gateway
// is on (--http_listen), then `listening on HOST:PORT`; --port_file and --http_port_file receive
// the ports (atomically: written to a temporary name, then renamed).
// SIGTERM or SIGINT shuts down gracefully: the health service turns NOT_SERVING, new calls are
// refused, in-flight calls finish (pending commits are drained) and the process exits 0.
// SIGHUP re-reads --token_file (token rotation without a restart) and prints `tokens reloaded`
// on stdout, or the error on stderr while the tokens in use stay.
// See docs/aggregator.md for every flag.
#include <signal.h>
#include <stdio.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/alerts/alert_monitor.h"
#include "aggregator/dashboard/dashboard_dir.h"
#include "aggregator/serve/server.h"

namespace {
const pinning::aggregator::ServerOptions kDefaults;
}  // namespace

ABSL_FLAG(std::string, listen, kDefaults.listen_address,
          "host:port to serve gRPC on; port 0 picks a free port");
ABSL_FLAG(std::string, port_file, "", "if set, the bound port is written to this file");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the server");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the server");
ABSL_FLAG(bool, insecure, false,
          "serve plaintext gRPC (tests and development only: tokens travel in clear)");
ABSL_FLAG(std::string, store, kDefaults.store,
          "sqlite (embedded, --data_dir) or postgres (shared by replicas, --postgres)");
ABSL_FLAG(std::string, data_dir, "", "directory of the SQLite database (created if missing)");
ABSL_FLAG(std::string, postgres, "",
          "PostgreSQL conninfo without a password, e.g. 'host=db dbname=pinning user=agg'");
ABSL_FLAG(std::string, postgres_password_file, "",
          "file holding the PostgreSQL password (else PGPASSFILE or ~/.pgpass)");
ABSL_FLAG(std::string, postgres_schema, kDefaults.postgres_schema, "PostgreSQL schema");
ABSL_FLAG(int, postgres_pool_size, kDefaults.postgres_pool_size, "PostgreSQL connections");
ABSL_FLAG(int, registry_refresh_ms,
          absl::ToInt64Milliseconds(kDefaults.registry_refresh_interval),
          "how often to reload params/catalogs published by other replicas (0: never)");
ABSL_FLAG(int64_t, sqlite_cache_kib, kDefaults.sqlite_cache_kib,
          "SQLite page cache per connection, KiB");
ABSL_FLAG(std::string, token_file, "",
          "bearer tokens, one `TOKEN ROLE NAME` per line (roles: reader, privacy-admin)");
ABSL_FLAG(std::string, initial_catalog, "",
          "pinning.v1.Catalog (text format, or JSON if *.json) stored at start if new");
ABSL_FLAG(std::string, initial_params, "",
          "pinning.v1.RandomizationParams (text or JSON) published at start if none exist");
ABSL_FLAG(double, max_epsilon_one, kDefaults.max_epsilon_one,
          "ceiling on the whole-ping epsilon of one ping for published params");
ABSL_FLAG(double, max_epsilon_inf, kDefaults.max_epsilon_inf,
          "ceiling on the whole-ping epsilon of unlimited pings for published params");
ABSL_FLAG(std::vector<std::string>, products, kDefaults.products,
          "accepted Dimensions.product values (comma-separated)");
ABSL_FLAG(std::vector<std::string>, channels, kDefaults.channels,
          "accepted Dimensions.channel values (comma-separated)");
ABSL_FLAG(uint32_t, min_major_version, kDefaults.min_major_version,
          "smallest accepted Dimensions.major_version (0 = unknown is always accepted)");
ABSL_FLAG(uint32_t, max_major_version, kDefaults.max_major_version,
          "largest accepted Dimensions.major_version");
ABSL_FLAG(int, max_age_days, kDefaults.max_age_days,
          "oldest accepted ping day, in days before today (UTC)");
ABSL_FLAG(int, max_future_days, kDefaults.max_future_days,
          "clock-skew allowance: days a ping's day may be ahead of today (UTC)");
ABSL_FLAG(int, retention_days, kDefaults.retention_days,
          "days ping ids are kept for exactly-once; must exceed --max_age_days");
ABSL_FLAG(int, commit_max_batch, kDefaults.commit_max_batch, "most pings per commit");
ABSL_FLAG(int, commit_max_wait_ms, absl::ToInt64Milliseconds(kDefaults.commit_max_wait),
          "longest wait for a commit batch to fill, ms");
ABSL_FLAG(int, queue_capacity, kDefaults.queue_capacity,
          "most pings waiting for commit before RESOURCE_EXHAUSTED");
ABSL_FLAG(int, completion_threads, kDefaults.completion_threads,
          "threads finishing ingest calls once their commit is durable");
ABSL_FLAG(int64_t, retry_after_ms, kDefaults.retry_after_ms,
          "retry hint sent with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, stream_max_in_flight, kDefaults.stream_max_in_flight,
          "most pings of one SubmitBatch stream waiting for commit");
ABSL_FLAG(int, shutdown_grace_s, absl::ToInt64Seconds(kDefaults.shutdown_grace),
          "seconds in-flight calls may take to finish on shutdown");
ABSL_FLAG(std::string, http_listen, "",
          "if set, host:port (numeric host) of the HTTP/JSON gateway: /api/v1/..., /healthz, "
          "/metrics and the dashboard; same TLS files and tokens as gRPC");
ABSL_FLAG(std::string, http_port_file, "", "if set, the HTTP gateway's port is written here");
ABSL_FLAG(std::string, dashboard_dir, "",
          "folder of the dashboard's files (default: the files built with aggregatord)");
ABSL_FLAG(double, alert_z, 4.0, "spike alerts: z-score threshold");
ABSL_FLAG(int, alert_baseline_days, 7, "spike alerts: days in the baseline");
ABSL_FLAG(int64_t, alert_min_pings, 100, "spike alerts: fewest pings under today and baseline");
ABSL_FLAG(double, alert_min_increase, 0.0, "spike alerts: smallest absolute rate increase");
ABSL_FLAG(int, alert_interval_s, 60, "spike alerts: seconds between evaluations");
ABSL_FLAG(std::string, alert_command, "", "spike alerts: pager hook program (empty: none)");
ABSL_FLAG(std::vector<std::string>, alert_command_args, {},
          "spike alerts: arguments of the hook program (comma-separated)");
ABSL_FLAG(int, alert_hook_max_age_days, 2,
          "spike alerts: only alerts about days at most this old run the hook");

namespace {

using pinning::aggregator::Server;
using pinning::aggregator::ServerOptions;

ServerOptions OptionsFromFlags(const char* argv0) {
  ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.store = absl::GetFlag(FLAGS_store);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.postgres_conninfo = absl::GetFlag(FLAGS_postgres);
  options.postgres_password_file = absl::GetFlag(FLAGS_postgres_password_file);
  options.postgres_schema = absl::GetFlag(FLAGS_postgres_schema);
  options.postgres_pool_size = absl::GetFlag(FLAGS_postgres_pool_size);
  options.registry_refresh_interval = absl::Milliseconds(absl::GetFlag(FLAGS_registry_refresh_ms));
  options.sqlite_cache_kib = absl::GetFlag(FLAGS_sqlite_cache_kib);
  options.token_file = absl::GetFlag(FLAGS_token_file);
  options.initial_catalog_file = absl::GetFlag(FLAGS_initial_catalog);
  options.initial_params_file = absl::GetFlag(FLAGS_initial_params);
  options.max_epsilon_one = absl::GetFlag(FLAGS_max_epsilon_one);
  options.max_epsilon_inf = absl::GetFlag(FLAGS_max_epsilon_inf);
  options.products = absl::GetFlag(FLAGS_products);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.min_major_version = absl::GetFlag(FLAGS_min_major_version);
  options.max_major_version = absl::GetFlag(FLAGS_max_major_version);
  options.max_age_days = absl::GetFlag(FLAGS_max_age_days);
  options.max_future_days = absl::GetFlag(FLAGS_max_future_days);
  options.retention_days = absl::GetFlag(FLAGS_retention_days);
  options.commit_max_batch = absl::GetFlag(FLAGS_commit_max_batch);
  options.commit_max_wait = absl::Milliseconds(absl::GetFlag(FLAGS_commit_max_wait_ms));
  options.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
  options.completion_threads = absl::GetFlag(FLAGS_completion_threads);
  options.retry_after_ms = absl::GetFlag(FLAGS_retry_after_ms);
  options.stream_max_in_flight = absl::GetFlag(FLAGS_stream_max_in_flight);
  options.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_s));
  options.http_listen_address = absl::GetFlag(FLAGS_http_listen);
  options.dashboard_dir = absl::GetFlag(FLAGS_dashboard_dir);
  if (options.dashboard_dir.empty()) {
    options.dashboard_dir = pinning::aggregator::DefaultDashboardDir(argv0);
  }
  options.alerts.rule.z = absl::GetFlag(FLAGS_alert_z);
  options.alerts.rule.baseline_days = absl::GetFlag(FLAGS_alert_baseline_days);
  options.alerts.rule.min_pings = absl::GetFlag(FLAGS_alert_min_pings);
  options.alerts.rule.min_increase = absl::GetFlag(FLAGS_alert_min_increase);
  options.alerts.interval = absl::Seconds(absl::GetFlag(FLAGS_alert_interval_s));
  options.alerts.hook_command = absl::GetFlag(FLAGS_alert_command);
  options.alerts.hook_args = absl::GetFlag(FLAGS_alert_command_args);
  options.alerts.hook_max_age_days = absl::GetFlag(FLAGS_alert_hook_max_age_days);
  return options;
}

bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    out.close();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "aggregatord: pinning-telemetry aggregator (gRPC: Ingest, Params, Query, Admin, health, "
      "reflection).\nUsage: aggregatord (--data_dir=DIR | --store=postgres --postgres=CONNINFO) "
      "(--tls_cert=F --tls_key=F | --insecure) [flags], or --flagfile=FILE");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with mutex deadlock detection on; it costs CPU on every lock of the
  // ingest path and is a development aid, so production turns it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (rest.size() > 1) {
    std::cerr << "aggregatord: unexpected argument '" << rest[1] << "'\n";
    return 2;
  }

  // Block the shutdown and reload signals in every thread (gRPC's threads inherit this mask) and
  // take them synchronously below, so they are handled in normal code, not in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(OptionsFromFlags(argv[0]));
  if (!server.ok()) {
    std::cerr << "aggregatord: " << server.status() << "\n";
    return 1;
  }

  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    if (!WritePortFile(port_file, (*server)->port())) {
      std::cerr << "aggregatord: cannot write --port_file " << port_file << "\n";
      (*server)->Shutdown();
      return 1;
    }
  }
  if (const std::string http_port_file = absl::GetFlag(FLAGS_http_port_file);
      !http_port_file.empty() && (*server)->http_port() != 0) {
    if (!WritePortFile(http_port_file, (*server)->http_port())) {
      std::cerr << "aggregatord: cannot write --http_port_file " << http_port_file << "\n";
      (*server)->Shutdown();
      return 1;
    }
  }
  if ((*server)->http_port() != 0) {
    std::cout << "http on " << (*server)->http_address() << std::endl;
  }
  std::cout << "listening on " << (*server)->address() << std::endl;

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    if (absl::Status reloaded = (*server)->ReloadTokens(); reloaded.ok()) {
      std::cout << "tokens reloaded" << std::endl;
    } else {
      std::cerr << "aggregatord: SIGHUP: " << reloaded << "\n";
    }
  }
  std::cerr << "aggregatord: signal " << signal_number << ", shutting down\n";
  (*server)->Shutdown();
  std::cerr << "aggregatord: stopped\n";
  return 0;
}
