// connection_pool.h: a bounded pool of PostgreSQL connections that reconnects with backoff.
//
// Connections are opened lazily, up to `max_connections`, and reused while healthy and idle (no
// open transaction). A connection that is lost (the database restarted, the network failed) is
// discarded when its lease ends, together with the idle ones (they shared its fate); the next
// Acquire opens a new one. While the database is
// unreachable, connection attempts are spaced by an exponential backoff (initial_backoff doubling
// up to max_backoff, with up to 50% random jitter so replicas do not reconnect in lock step), and
// Acquire fails fast with UNAVAILABLE in between: callers (the ingest path) answer UNAVAILABLE at
// once and clients retry, instead of piling up blocked requests.
//
//   ConnectionPoolOptions options;
//   options.connection = config;
//   options.session_setup = "SET search_path TO pinning";
//   ASSIGN_OR_RETURN(std::unique_ptr<ConnectionPool> pool, ConnectionPool::Create(options));
//   ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool->Acquire());
//   RETURN_IF_ERROR(conn->Exec("SELECT 1").status());
//   // the lease returns the connection when it goes out of scope
//
// Thread safety: Acquire may be called from any thread; a Lease is used by one thread.
#ifndef AGGREGATOR_STORAGE_POSTGRES_CONNECTION_POOL_H_
#define AGGREGATOR_STORAGE_POSTGRES_CONNECTION_POOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/storage/postgres/connection_config.h"
#include "aggregator/storage/postgres/pg_connection.h"

namespace pinning::aggregator::postgres {

struct ConnectionPoolOptions {
  PgConnectionConfig connection;
  // SQL run on every new connection (e.g. SET search_path); empty for none.
  std::string session_setup;
  // Most open connections.
  int max_connections = 4;
  // Longest wait for a connection when all are in use; then UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(2);
  // Longest wait for any statement's answer (PgConnection::Connect).
  absl::Duration query_timeout = absl::Seconds(60);
  // Backoff between failed connection attempts.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
};

class ConnectionPool {
 public:
  // Lease lends one connection; it goes back to the pool (or is closed, when lost or left inside
  // a transaction) when the lease is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection* operator->() const { return conn_.get(); }
    PgConnection& operator*() const { return *conn_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<PgConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    ConnectionPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // Create validates the options (INVALID_ARGUMENT) and opens one connection to check that the
  // database is reachable (UNAVAILABLE otherwise).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ConnectionPool>> Create(
      ConnectionPoolOptions options);

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Acquire returns an idle connection, or opens one; UNAVAILABLE when the database cannot be
  // reached (or during the backoff after a failed attempt) or when every connection stays busy
  // for acquire_timeout.
  [[nodiscard]] absl::StatusOr<Lease> Acquire() ABSL_LOCKS_EXCLUDED(mu_);

  // connects_total counts successful connection attempts; failed_connects_total failed ones.
  int64_t connects_total() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t failed_connects_total() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit ConnectionPool(ConnectionPoolOptions options) : options_(std::move(options)) {}
  void Release(std::unique_ptr<PgConnection> conn) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<PgConnection>> Open();

  const ConnectionPoolOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + leased + being opened
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  int64_t connects_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_connects_ ABSL_GUARDED_BY(mu_) = 0;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_CONNECTION_POOL_H_
