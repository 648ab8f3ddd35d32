#include "aggregator/storage/postgres/pg_test_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

// IsLivePostgres is true when `pid` is a running (not zombie) process named postgres.
bool IsLivePostgres(pid_t pid) {
  for (int i = 0; i < 100; ++i) {  // allow the orphan's reaper a moment
    std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
    std::string line;
    if (!std::getline(stat, line)) return false;
    const size_t close_paren = line.rfind(')');
    const std::string comm = line.substr(line.find('(') + 1, close_paren - line.find('(') - 1);
    const char state = line.size() > close_paren + 2 ? line[close_paren + 2] : '?';
    if (comm != "postgres" || state == 'Z' || state == 'X') return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

TEST(PgTestServerTest, StartsQueriesRestartsAndCleansUp) {
  std::string dir;
  {
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    dir = (*pg)->dir();
    EXPECT_EQ(dir.rfind("/tmp/pgtest.", 0), 0u) << dir;
    EXPECT_GT((*pg)->port(), 0);
    EXPECT_GT((*pg)->pid(), 0);
    ASSERT_EQ(*(*pg)->Psql("SELECT 6 * 7"), "42");
    ASSERT_TRUE((*pg)->Psql("CREATE TABLE t(x int); INSERT INTO t VALUES (1), (2)").ok());
    // Data survives a fast restart and a crash-like immediate restart (WAL recovery).
    ASSERT_TRUE((*pg)->Restart(/*immediate=*/false).ok());
    EXPECT_EQ(*(*pg)->Psql("SELECT sum(x) FROM t"), "3");
    ASSERT_TRUE((*pg)->Psql("INSERT INTO t VALUES (4)").ok());
    ASSERT_TRUE((*pg)->Restart(/*immediate=*/true).ok());
    EXPECT_EQ(*(*pg)->Psql("SELECT sum(x) FROM t"), "7");
    EXPECT_FALSE((*pg)->Psql("SELECT * FROM missing_table").ok());
    EXPECT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// A test process that dies without running destructors still leaves nothing behind.
TEST(PgTestServerTest, WatchdogCleansUpAfterACrashedProcess) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
    std::string report = pg.ok() ? absl::StrCat((*pg)->dir(), " ", (*pg)->pid()) : "failed";
    report.resize(200, ' ');
    (void)!write(fds[1], report.data(), report.size());
    pause();  // killed by the parent: no destructor runs
    _exit(0);
  }
  close(fds[1]);
  char buffer[200];
  size_t got = 0;
  while (got < sizeof(buffer)) {
    const ssize_t n = read(fds[0], buffer + got, sizeof(buffer) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  std::string report(buffer, got);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_NE(report.rfind("/tmp/pgtest.", 0), std::string::npos) << report;
  const std::string dir = report.substr(0, report.find(' '));
  const pid_t postmaster = std::stoi(report.substr(report.find(' ') + 1));
  // The watchdog stops postgres (now an orphan) and removes the directory.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (std::filesystem::exists(dir) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(IsLivePostgres(postmaster));
}

}  // namespace
}  // namespace pinning::aggregator::postgres
