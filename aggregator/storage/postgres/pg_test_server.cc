#include "aggregator/storage/postgres/pg_test_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <postgresql/libpq-fe.h>  // Debian: /usr/include/postgresql
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

extern char** environ;

namespace pinning::aggregator::postgres {
namespace {

// Stops the server (if its pid file names a live postgres) and deletes the directory once
// standard input reaches end-of-file.
constexpr char kWatchdogScript[] = R"sh(
cat >/dev/null
pidfile="$1/data/postmaster.pid"
if [ -f "$pidfile" ]; then
  pid=$(head -n 1 "$pidfile")
  if [ "$(cat /proc/$pid/comm 2>/dev/null)" = postgres ]; then
    kill -QUIT "$pid" 2>/dev/null
    i=0
    while [ -f "$pidfile" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
      sleep 0.1; i=$((i+1))
    done
    kill -KILL "$pid" 2>/dev/null
  fi
fi
rm -rf "$1"
)sh";

std::string FindBinDir() {
  if (const char* env = std::getenv("PG_BIN"); env != nullptr && *env != '\0') return env;
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    const int version = std::atoi(name.c_str());
    if (version > best_version && std::filesystem::exists(entry.path() / "bin" / "postgres", ec)) {
      best_version = version;
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

struct SpawnSpec {
  std::vector<std::string> argv;
  std::string output_file;  // stdout and stderr, appended; "" = /dev/null
  int stdin_fd = -1;        // -1 = /dev/null
  bool new_session = false;
};

absl::StatusOr<pid_t> Spawn(const SpawnSpec& spec) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (spec.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, spec.stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  const std::string out = spec.output_file.empty() ? "/dev/null" : spec.output_file;
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  short flags =
      POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;  // NOLINT(runtime/int): the API's type
  if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("spawn ", spec.argv[0], ": ", std::strerror(rc)));
  }
  return pid;
}

// WaitExit waits for `pid` up to `timeout`; returns its wait status, or DEADLINE_EXCEEDED.
absl::StatusOr<int> WaitExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError("process did not exit");
    absl::SleepFor(absl::Milliseconds(20));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgTestServer>> PgTestServer::Start(PgTestServerOptions options) {
  std::unique_ptr<PgTestServer> server(new PgTestServer());
  server->options_ = std::move(options);
  server->bin_dir_ = FindBinDir();
  if (server->bin_dir_.empty()) {
    return absl::FailedPreconditionError(
        "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (install the `postgresql` "
        "package: tools/setup.sh) and PG_BIN is not set");
  }
  char dir_template[] = "/tmp/pgtest.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  server->dir_ = dir_template;

  // The watchdog first, so that every later failure is cleaned up too.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::filesystem::remove_all(server->dir_);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  SpawnSpec watchdog;
  watchdog.argv = {"/bin/sh", "-c", kWatchdogScript, "pgtest-watchdog", server->dir_};
  watchdog.stdin_fd = fds[0];
  watchdog.new_session = true;
  absl::StatusOr<pid_t> watchdog_pid = Spawn(watchdog);
  close(fds[0]);
  if (!watchdog_pid.ok()) {
    close(fds[1]);
    std::filesystem::remove_all(server->dir_);
    return watchdog_pid.status();
  }
  server->watchdog_pid_ = *watchdog_pid;
  server->watchdog_fd_ = fds[1];

  // From here on the destructor (through the watchdog) cleans up.
  uid_t uid = geteuid();
  gid_t gid = getegid();
  server->as_postgres_user_ = uid == 0;
  if (server->as_postgres_user_) {
    struct passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError("running as root but there is no `postgres` user");
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  std::random_device random;
  server->password_file_ = server->dir_ + "/password";
  {
    std::ofstream pw(server->password_file_, std::ios::trunc);
    pw << absl::StrFormat("pw-%08x%08x\n", random(), random());
  }
  if (chmod(server->password_file_.c_str(), 0600) != 0 ||
      chown(server->dir_.c_str(), uid, gid) != 0 ||
      chown(server->password_file_.c_str(), uid, gid) != 0) {
    return absl::InternalError(absl::StrCat("chmod/chown: ", std::strerror(errno)));
  }

  SpawnSpec initdb;
  initdb.argv = {server->bin_dir_ + "/initdb",
                 "-D",
                 server->dir_ + "/data",
                 "-U",
                 "postgres",
                 "--auth-local=trust",
                 "--auth-host=scram-sha-256",
                 "--pwfile=" + server->password_file_,
                 "-E",
                 "UTF8",
                 "--locale=C",
                 "--no-sync"};
  if (server->as_postgres_user_) {
    initdb.argv.insert(initdb.argv.begin(), {"/usr/bin/setpriv", "--reuid=postgres",
                                             "--regid=postgres", "--clear-groups", "--"});
  }
  initdb.output_file = server->dir_ + "/initdb.log";
  absl::StatusOr<pid_t> initdb_pid = Spawn(initdb);
  if (!initdb_pid.ok()) return initdb_pid.status();
  absl::StatusOr<int> initdb_status = WaitExit(*initdb_pid, absl::Seconds(120));
  if (!initdb_status.ok() || !WIFEXITED(*initdb_status) || WEXITSTATUS(*initdb_status) != 0) {
    return absl::InternalError(
        absl::StrCat("initdb failed: ", ReadFile(server->dir_ + "/initdb.log")));
  }

  absl::Status started;
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    started = server->SpawnPostgres();
    if (started.ok()) started = server->WaitReady();
    if (started.ok()) return server;
    if (server->pid_ != 0) (void)server->Stop(/*immediate=*/true);
  }
  return started;
}

absl::Status PgTestServer::SpawnPostgres() {
  SpawnSpec spec;
  spec.argv = {bin_dir_ + "/postgres",
               "-D",
               dir_ + "/data",
               "-k",
               dir_,
               "-h",
               "127.0.0.1",
               "-p",
               absl::StrCat(port_),
               "-c",
               absl::StrCat("fsync=", options_.fsync ? "on" : "off"),
               "-c",
               "dynamic_shared_memory_type=mmap",
               "-c",
               "shared_buffers=64MB",
               "-c",
               "max_connections=200"};
  for (const std::string& setting : options_.settings) {
    spec.argv.push_back("-c");
    spec.argv.push_back(setting);
  }
  if (as_postgres_user_) {
    spec.argv.insert(spec.argv.begin(), {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                         "--clear-groups", "--"});
  }
  spec.output_file = dir_ + "/postgres.log";
  absl::StatusOr<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return absl::OkStatus();
}

absl::Status PgTestServer::WaitReady() {
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  const std::string conninfo = SocketConnInfo();
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return absl::UnavailableError(absl::StrCat("postgres exited: ", LogTail()));
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(25));
  }
  return absl::DeadlineExceededError(absl::StrCat("postgres did not start: ", LogTail()));
}

PgTestServer::~PgTestServer() {
  if (pid_ != 0) (void)Stop(/*immediate=*/true);
  if (watchdog_fd_ >= 0) close(watchdog_fd_);
  if (watchdog_pid_ > 0) (void)WaitExit(watchdog_pid_, absl::Seconds(30));
}

std::string PgTestServer::ConnInfo(absl::string_view dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=postgres dbname=", dbname);
}

std::string PgTestServer::SocketConnInfo(absl::string_view dbname) const {
  return absl::StrCat("host=", dir_, " port=", port_, " user=postgres dbname=", dbname);
}

absl::Status PgTestServer::Stop(bool immediate) {
  if (pid_ == 0) return absl::FailedPreconditionError("postgres is not running");
  kill(pid_, immediate ? SIGQUIT : SIGINT);
  absl::StatusOr<int> status = WaitExit(pid_, absl::Seconds(30));
  if (!status.ok()) {
    kill(pid_, SIGKILL);
    status = WaitExit(pid_, absl::Seconds(10));
  }
  pid_ = 0;
  return status.status();
}

absl::Status PgTestServer::Resume() {
  if (pid_ != 0) return absl::FailedPreconditionError("postgres is already running");
  absl::Status s = SpawnPostgres();
  if (s.ok()) s = WaitReady();
  return s;
}

absl::Status PgTestServer::Restart(bool immediate) {
  absl::Status s = Stop(immediate);
  if (!s.ok()) return s;
  return Resume();
}

absl::StatusOr<std::string> PgTestServer::Psql(absl::string_view sql,
                                               absl::string_view dbname) const {
  static int counter = 0;
  const std::string out = absl::StrCat(dir_, "/psql.", getpid(), ".", ++counter, ".out");
  SpawnSpec spec;
  spec.argv = {bin_dir_ + "/psql",
               "-X",
               "-q",
               "-A",
               "-t",
               "-v",
               "ON_ERROR_STOP=1",
               "-h",
               dir_,
               "-p",
               absl::StrCat(port_),
               "-U",
               "postgres",
               "-d",
               std::string(dbname),
               "-c",
               std::string(sql)};
  spec.output_file = out;
  absl::StatusOr<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  absl::StatusOr<int> status = WaitExit(*pid, absl::Seconds(60));
  std::string text = ReadFile(out);
  std::filesystem::remove(out);
  if (!status.ok()) return status.status();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("psql failed: ", text));
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string PgTestServer::LogTail(size_t bytes) const {
  const std::string log = ReadFile(dir_ + "/postgres.log");
  return log.size() <= bytes ? log : log.substr(log.size() - bytes);
}

}  // namespace pinning::aggregator::postgres
