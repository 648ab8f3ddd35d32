#include "aggregator/storage/postgres/connection_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pinning::aggregator::postgres {

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Create(
    ConnectionPoolOptions options) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError("need 0 < initial_backoff <= max_backoff");
  }
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool(std::move(options)));
  absl::StatusOr<Lease> first = pool->Acquire();
  if (!first.ok()) return first.status();
  return pool;
}

absl::StatusOr<std::unique_ptr<PgConnection>> ConnectionPool::Open() {
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(options_.connection, options_.query_timeout);
  if (conn.ok() && !options_.session_setup.empty()) {
    absl::Status setup = (*conn)->Exec(options_.session_setup).status();
    if (!setup.ok()) conn = setup;
  }
  return conn;
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  const absl::Time deadline = absl::Now() + options_.acquire_timeout;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      return absl::UnavailableError(absl::StrCat("postgres: all ", options_.max_connections,
                                                 " connections busy for ",
                                                 absl::FormatDuration(options_.acquire_timeout)));
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    const absl::Time now = absl::Now();
    if (now < next_attempt_) {
      return absl::UnavailableError(
          absl::StrCat("database unavailable, next connection attempt in ",
                       absl::FormatDuration(absl::Ceil(next_attempt_ - now, absl::Milliseconds(1))),
                       "; last error: ", last_error_.message()));
    }
    ++open_;  // reserve the slot while connecting outside the lock
  }
  absl::StatusOr<std::unique_ptr<PgConnection>> conn = Open();
  absl::MutexLock lock(&mu_);
  if (!conn.ok()) {
    --open_;
    ++failed_connects_;
    backoff_ = backoff_ == absl::ZeroDuration() ? options_.initial_backoff
                                                : std::min(backoff_ * 2, options_.max_backoff);
    const double jitter = absl::Uniform(bitgen_, 0.0, 0.5);
    next_attempt_ = absl::Now() + backoff_ * (1.0 + jitter);
    last_error_ = conn.status();
    return conn.status();
  }
  ++connects_;
  backoff_ = absl::ZeroDuration();
  next_attempt_ = absl::InfinitePast();
  return Lease(this, *std::move(conn));
}

void ConnectionPool::Release(std::unique_ptr<PgConnection> conn) {
  const bool lost = !conn->healthy();
  const bool reusable = !lost && conn->idle();
  std::vector<std::unique_ptr<PgConnection>> closing;
  {
    absl::MutexLock lock(&mu_);
    if (reusable) {
      idle_.push_back(std::move(conn));
      return;
    }
    --open_;
    if (lost) {
      // The idle connections most likely died with this one (a database restart or a network
      // failure ends them all); close them rather than fail one request per dead connection.
      open_ -= static_cast<int>(idle_.size());
      closing.swap(idle_);
    }
  }
  // `conn` and `closing` close here, outside the lock.
}

int64_t ConnectionPool::connects_total() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}

int64_t ConnectionPool::failed_connects_total() const {
  absl::MutexLock lock(&mu_);
  return failed_connects_;
}

}  // namespace pinning::aggregator::postgres
