// pg_test_server.h: a throw-away PostgreSQL server for tests and benchmarks, on loopback.
//
// Start() creates a temporary directory under /tmp, runs initdb there (as the `postgres` system
// user when the test runs as root, since initdb and postgres refuse to run as root), and starts
// postgres listening on 127.0.0.1 at a free port, with its unix socket in the same directory.
// Local (unix socket) logins are trusted; TCP logins need the superuser's password, which is in
// password_file() (mode 0600), so tests exercise real password authentication.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<PgTestServer> pg, PgTestServer::Start());
//   PostgresStoreOptions options;
//   options.conninfo = pg->ConnInfo();           // host=127.0.0.1 port=N user=postgres ...
//   options.password_file = pg->password_file();
//   ...
//   RETURN_IF_ERROR(pg->Restart());              // fast shutdown, then start on the same port
//
// Teardown happens even when the test process dies: a watchdog process in its own session holds
// the read end of a pipe whose write end only this process holds; when it reads end-of-file (the
// destructor closed it, or the process exited or crashed) it stops the server and deletes the
// directory.
//
// Binaries come from $PG_BIN when set, else the newest /usr/lib/postgresql/<N>/bin.
// Thread safety: none; one test thread controls the server.
#ifndef AGGREGATOR_STORAGE_POSTGRES_PG_TEST_SERVER_H_
#define AGGREGATOR_STORAGE_POSTGRES_PG_TEST_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pinning::aggregator::postgres {

struct PgTestServerOptions {
  // fsync on makes commits durable against power loss, as in production; tests that only kill
  // processes can leave it off for speed (PostgreSQL still recovers from its WAL after a crash of
  // the server process).
  bool fsync = false;
  // Extra `-c name=value` settings for postgres.
  std::vector<std::string> settings;
  // Longest wait for the server to accept connections.
  absl::Duration start_timeout = absl::Seconds(60);
};

class PgTestServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PgTestServer>> Start(
      PgTestServerOptions options = {});

  // The destructor stops the server and removes its directory (through the watchdog).
  ~PgTestServer();
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  int port() const { return port_; }
  // dir holds data/, the unix socket, the password file and postgres.log.
  const std::string& dir() const { return dir_; }
  const std::string& password_file() const { return password_file_; }
  // ConnInfo returns a TCP connection string without password for `dbname`.
  std::string ConnInfo(absl::string_view dbname = "postgres") const;
  // SocketConnInfo returns a unix-socket connection string (trusted, no password).
  std::string SocketConnInfo(absl::string_view dbname = "postgres") const;
  // pid is the postmaster's process id (0 while stopped).
  pid_t pid() const { return pid_; }

  // Stop shuts the server down: fast (SIGINT: abort transactions, checkpoint) or immediate
  // (SIGQUIT: like a crash; the next start recovers from the WAL). Waits until it has exited.
  [[nodiscard]] absl::Status Stop(bool immediate = false);
  // Resume starts the stopped server again on the same port and waits until it accepts logins.
  [[nodiscard]] absl::Status Resume();
  // Restart is Stop(immediate) then Resume().
  [[nodiscard]] absl::Status Restart(bool immediate = false);

  // Psql runs `sql` with psql over the unix socket and returns its unaligned, tuples-only output
  // (for checks from outside the code under test).
  [[nodiscard]] absl::StatusOr<std::string> Psql(absl::string_view sql,
                                                 absl::string_view dbname = "postgres") const;

  // LogTail returns the last `bytes` of postgres.log.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  PgTestServer() = default;
  absl::Status SpawnPostgres();
  absl::Status WaitReady();

  PgTestServerOptions options_;
  std::string bin_dir_;
  std::string dir_;
  std::string password_file_;
  int port_ = 0;
  pid_t pid_ = 0;
  pid_t watchdog_pid_ = 0;
  int watchdog_fd_ = -1;  // write end of the watchdog's pipe
  bool as_postgres_user_ = false;
};

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_PG_TEST_SERVER_H_
