#include "aggregator/storage/postgres/pg_connection.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "aggregator/storage/postgres/pg_test_server.h"
#include "aggregator/storage/postgres/tcp_proxy.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

class PgConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    server_ = std::move(*pg).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  std::unique_ptr<PgConnection> Connect() {
    absl::StatusOr<PgConnectionConfig> config =
        PgConnectionConfig::Create(server_->ConnInfo(), server_->password_file());
    EXPECT_TRUE(config.ok()) << config.status();
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(*config);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }
  static PgTestServer* server_;
};
PgTestServer* PgConnectionTest::server_ = nullptr;

TEST(StatusFromSqlStateTest, MapsClasses) {
  EXPECT_EQ(StatusFromSqlState("40P01", "deadlock").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("40001", "serialization").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("23505", "unique").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromSqlState("23502", "not null").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromSqlState("22003", "out of range").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromSqlState("42P01", "no table").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusFromSqlState("08006", "lost").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57P01", "admin shutdown").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("53100", "disk full").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("", "no state").code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(StatusFromSqlState("53100", "disk full").message().find("53100"), std::string::npos);
}

// The server decodes the binary parameters and arrays and sends binary results back.
TEST_F(PgConnectionTest, BinaryParametersAndArraysRoundTrip) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  PgArray days(PgType::kInt4);
  PgArray ids(PgType::kBytea);
  PgArray names(PgType::kText);
  for (int i = 0; i < 3; ++i) {
    days.AddInt4(-i);
    ids.AddBytes(std::string(3, static_cast<char>(0xf0 + i)));
    names.AddBytes(absl::StrCat("n", i));
  }
  PgParams p;
  p.AddArray(days);
  p.AddArray(ids);
  p.AddArray(names);
  p.AddInt8(int64_t{1} << 40);
  absl::StatusOr<PgResult> r = conn->ExecParams(
      "SELECT d, i, n, d::int8 + $4 FROM unnest($1::int4[], $2::bytea[], $3::text[]) AS u(d, i, "
      "n) ORDER BY d DESC",
      p);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), 3);
  for (int row = 0; row < 3; ++row) {
    EXPECT_EQ(*DecodeInt4(r->Value(row, 0)), -row);
    EXPECT_EQ(r->Value(row, 1), std::string(3, static_cast<char>(0xf0 + row)));
    EXPECT_EQ(r->Value(row, 2), absl::StrCat("n", row));
    EXPECT_EQ(*DecodeInt8(r->Value(row, 3)), (int64_t{1} << 40) - row);
  }
  PgArray empty(PgType::kInt4);
  PgParams q;
  q.AddArray(empty);
  absl::StatusOr<PgResult> none = conn->ExecParams("SELECT cardinality($1::int4[])", q);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*DecodeInt4(none->Value(0, 0)), 0);
}

TEST_F(PgConnectionTest, PreparedStatementsStreamingAndCopy) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TEMP TABLE t(a int4, b bytea)").ok());
  PgCopyBinary copy;
  for (int i = 1; i <= 1000; ++i) {
    copy.StartRow(2);
    copy.AddInt4(i);
    copy.AddBytes(std::string(1, static_cast<char>(i)));
  }
  ASSERT_TRUE(conn->CopyIn("COPY t FROM STDIN (FORMAT binary)", copy.Finish()).ok());
  for (int round = 0; round < 2; ++round) {  // the second round reuses the prepared statement
    PgParams p;
    p.AddInt4(500);
    absl::StatusOr<PgResult> r =
        conn->ExecPrepared("sum_above", "SELECT sum(a)::int8 FROM t WHERE a > $1", p);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*DecodeInt8(r->Value(0, 0)), (501 + 1000) * 500 / 2);
  }
  int64_t rows = 0, sum = 0;
  PgParams none;
  ASSERT_TRUE(conn->ForEachRow("SELECT a FROM t ORDER BY a", none,
                               [&](const PgResult& r) {
                                 EXPECT_EQ(r.rows(), 1);
                                 ++rows;
                                 sum += *DecodeInt4(r.Value(0, 0));
                                 return absl::OkStatus();
                               })
                  .ok());
  EXPECT_EQ(rows, 1000);
  EXPECT_EQ(sum, 1000 * 1001 / 2);
  // An error from the callback stops the iteration; the connection stays usable.
  int seen = 0;
  absl::Status stop = conn->ForEachRow("SELECT a FROM t", none, [&](const PgResult&) {
    return ++seen == 3 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(stop.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(seen, 3);
  EXPECT_TRUE(conn->Exec("SELECT 1").ok());
  EXPECT_TRUE(conn->idle());
}

TEST_F(PgConnectionTest, ErrorsCarrySqlState) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TEMP TABLE u(k int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn->Exec("INSERT INTO u VALUES (1)").ok());
  absl::Status dup = conn->Exec("INSERT INTO u VALUES (1)").status();
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_NE(dup.message().find("23505"), std::string::npos) << dup;
  EXPECT_EQ(conn->Exec("SELEC 1").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(conn->Exec("SELECT 1/0").status().code(), absl::StatusCode::kInvalidArgument);
  // Killing the backend makes the connection unhealthy and the error UNAVAILABLE.
  const int pid = conn->backend_pid();
  ASSERT_TRUE(server_->Psql(absl::StrCat("SELECT pg_terminate_backend(", pid, ")")).ok());
  EXPECT_EQ(conn->Exec("SELECT 1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(conn->healthy());
}

// Behind a stalled network (a proxy that keeps the TCP connection up but moves no bytes), a
// statement fails after the client-side query timeout instead of hanging, and the connection is
// marked unhealthy.
TEST_F(PgConnectionTest, QueryTimeoutEndsAStalledStatement) {
  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy = TcpProxy::Start(server_->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  absl::StatusOr<PgConnectionConfig> config = PgConnectionConfig::Create(
      absl::StrCat("host=127.0.0.1 port=", (*proxy)->port(), " user=postgres dbname=postgres"),
      server_->password_file());
  ASSERT_TRUE(config.ok());
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(*config, absl::Milliseconds(800));
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE((*conn)->Exec("SELECT 1").ok());
  (*proxy)->SetPartitioned(true);
  const absl::Time start = absl::Now();
  const absl::Status stalled = (*conn)->Exec("SELECT 1").status();
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(stalled.code(), absl::StatusCode::kUnavailable) << stalled;
  EXPECT_GE(waited, absl::Milliseconds(700));
  EXPECT_LT(waited, absl::Seconds(5));
  EXPECT_FALSE((*conn)->healthy());
  EXPECT_FALSE((*conn)->idle());
  (*proxy)->SetPartitioned(false);
}

TEST(PgConnectionConnectTest, UnreachableServerIsUnavailable) {
  absl::StatusOr<PgConnectionConfig> config =
      PgConnectionConfig::Create("host=127.0.0.1 port=1 connect_timeout=2", "");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(PgConnection::Connect(*config).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
