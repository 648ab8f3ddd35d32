#include "aggregator/storage/postgres/connection_pool.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "aggregator/storage/postgres/pg_test_server.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

ConnectionPoolOptions OptionsFor(const PgTestServer& pg) {
  absl::StatusOr<PgConnectionConfig> config =
      PgConnectionConfig::Create(pg.ConnInfo(), pg.password_file());
  EXPECT_TRUE(config.ok()) << config.status();
  ConnectionPoolOptions options{*config};
  options.session_setup = "SET application_name = 'pool_test'";
  options.max_connections = 2;
  options.acquire_timeout = absl::Milliseconds(300);
  options.initial_backoff = absl::Milliseconds(200);
  options.max_backoff = absl::Milliseconds(400);
  return options;
}

TEST(ConnectionPoolTest, ReusesBoundsAndRunsSessionSetup) {
  absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  absl::StatusOr<std::unique_ptr<ConnectionPool>> pool = ConnectionPool::Create(OptionsFor(**pg));
  ASSERT_TRUE(pool.ok()) << pool.status();
  int first_pid = 0;
  {
    absl::StatusOr<ConnectionPool::Lease> a = (*pool)->Acquire();
    ASSERT_TRUE(a.ok()) << a.status();
    first_pid = (*a)->backend_pid();
    absl::StatusOr<PgResult> name = (*a)->Exec("SHOW application_name");
    ASSERT_TRUE(name.ok());
    EXPECT_EQ(name->Value(0, 0), "pool_test");
    absl::StatusOr<ConnectionPool::Lease> b = (*pool)->Acquire();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_NE((*b)->backend_pid(), first_pid);
    // Both connections are leased: the third waits acquire_timeout, then UNAVAILABLE.
    const absl::Time start = absl::Now();
    EXPECT_EQ((*pool)->Acquire().status().code(), absl::StatusCode::kUnavailable);
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  }
  // Released connections are reused, not reopened.
  absl::StatusOr<ConnectionPool::Lease> again = (*pool)->Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*pool)->connects_total(), 2);
  // A lease dropped inside a transaction is closed, not reused.
  ASSERT_TRUE((*again)->Exec("BEGIN").ok());
  const int in_tx_pid = (*again)->backend_pid();
  { ConnectionPool::Lease dropped = *std::move(again); }
  absl::StatusOr<ConnectionPool::Lease> a = (*pool)->Acquire();
  absl::StatusOr<ConnectionPool::Lease> b = (*pool)->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->backend_pid(), in_tx_pid);
  EXPECT_NE((*b)->backend_pid(), in_tx_pid);
}

TEST(ConnectionPoolTest, FailsFastDuringBackoffAndReconnectsAfterRestart) {
  absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  ConnectionPoolOptions options = OptionsFor(**pg);
  // A backoff window long enough that a busy machine cannot make the test outlive it.
  options.initial_backoff = absl::Seconds(1);
  options.max_backoff = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<ConnectionPool>> pool = ConnectionPool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pg)->Stop(/*immediate=*/true).ok());
  {
    // The idle connection is dead: its first use fails, and releasing it drops it.
    absl::StatusOr<ConnectionPool::Lease> stale = (*pool)->Acquire();
    ASSERT_TRUE(stale.ok());
    EXPECT_EQ((*stale)->Exec("SELECT 1").status().code(), absl::StatusCode::kUnavailable);
  }
  absl::Status failed = (*pool)->Acquire().status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  // Within the backoff window the pool does not even try.
  const int64_t failed_before = (*pool)->failed_connects_total();
  const absl::Time start = absl::Now();
  absl::Status fast = (*pool)->Acquire().status();
  EXPECT_EQ(fast.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(fast.message().find("next connection attempt"), std::string::npos) << fast;
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_EQ((*pool)->failed_connects_total(), failed_before);
  ASSERT_TRUE((*pg)->Resume().ok());
  absl::SleepFor(absl::Milliseconds(1600));  // > max_backoff * 1.5 (the largest jitter)
  absl::StatusOr<ConnectionPool::Lease> back = (*pool)->Acquire();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE((*back)->Exec("SELECT 1").ok());
  EXPECT_EQ((*pool)->connects_total(), 2);
}

TEST(ConnectionPoolTest, RejectsBadOptionsAndUnreachableDatabase) {
  absl::StatusOr<PgConnectionConfig> config =
      PgConnectionConfig::Create("host=127.0.0.1 port=1 connect_timeout=2", "");
  ASSERT_TRUE(config.ok());
  ConnectionPoolOptions options{*config};
  options.max_connections = 0;
  EXPECT_EQ(ConnectionPool::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.max_connections = 1;
  EXPECT_EQ(ConnectionPool::Create(options).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
