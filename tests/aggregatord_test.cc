// The aggregatord binary's command-line contract: the machine-readable start lines, port files,
// the HTTP gateway's /healthz and /metrics, token rotation on SIGHUP, and a clean exit on SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

// HttpGet sends a plain HTTP/1.0 GET to 127.0.0.1:port (with `Authorization: Bearer token` when
// `token` is not empty) and returns the whole response.
std::string HttpGet(int port, const std::string& path, const std::string& token = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: localhost\r\n",
                   token.empty() ? "" : absl::StrCat("Authorization: Bearer ", token, "\r\n"),
                   "\r\n");
  (void)!::send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  ::close(fd);
  return response;
}

// WaitForText waits up to 10 s for the file at `path` to contain `text`.
bool WaitForText(const std::string& path, const std::string& text) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ReadFileOrEmpty(path).find(text) == std::string::npos) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

int WaitForPort(const std::string& path, Subprocess& process) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    int port = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFileOrEmpty(path)), &port) && port > 0) {
      return port;
    }
    if (process.WaitFor(absl::ZeroDuration()).has_value()) return 0;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return 0;
}

TEST(AggregatordTest, StartsServesHttpRotatesTokensOnSighupAndStopsCleanlyOnSigterm) {
  absl::StatusOr<std::string> dir = MakeTempDir("aggregatord");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<ConfigFiles> files = WriteConfigFiles(*dir);
  ASSERT_TRUE(files.ok());
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(
      {RunfilePath("aggregator/serve/aggregatord"), "--insecure", "--listen=127.0.0.1:0",
       "--http_listen=127.0.0.1:0", "--port_file=" + *dir + "/port",
       "--http_port_file=" + *dir + "/http_port", "--data_dir=" + *dir + "/data",
       "--token_file=" + files->token_file, "--initial_catalog=" + files->catalog_file,
       "--initial_params=" + files->params_file, "--max_epsilon_one=6", "--max_epsilon_inf=10"},
      *dir + "/stdout", *dir + "/stderr");
  ASSERT_TRUE(process.ok());
  const int port = WaitForPort(*dir + "/port", **process);
  ASSERT_GT(port, 0) << ReadFileOrEmpty(*dir + "/stderr");
  const int http_port = WaitForPort(*dir + "/http_port", **process);
  ASSERT_GT(http_port, 0);

  const std::string stdout_text = ReadFileOrEmpty(*dir + "/stdout");
  EXPECT_NE(stdout_text.find(absl::StrCat("http on 127.0.0.1:", http_port, "\n")),
            std::string::npos)
      << stdout_text;
  EXPECT_NE(stdout_text.find(absl::StrCat("listening on 127.0.0.1:", port, "\n")),
            std::string::npos)
      << stdout_text;

  const std::string health = HttpGet(http_port, "/healthz");
  EXPECT_NE(health.find(" 200 "), std::string::npos) << health;
  EXPECT_NE(health.find("SERVING"), std::string::npos) << health;
  const std::string metrics = HttpGet(http_port, "/metrics");
  EXPECT_NE(metrics.find("pinning_ingest_accepted_total"), std::string::npos) << metrics;
  // The API needs a token.
  const std::string api = HttpGet(http_port, "/api/v1/params");
  EXPECT_NE(api.find(" 401 "), std::string::npos) << api;
  EXPECT_NE(HttpGet(http_port, "/api/v1/params", TestEnv::kReaderToken).find(" 200 "),
            std::string::npos);

  // SIGHUP re-reads the token file: the rotated token works, the old one no longer does.
  constexpr char kRotated[] = "rotated-reader-token-0003";
  EXPECT_NE(HttpGet(http_port, "/api/v1/params", kRotated).find(" 401 "), std::string::npos);
  std::ofstream(files->token_file) << kRotated << " reader dashboard\n";
  (*process)->Signal(SIGHUP);
  ASSERT_TRUE(WaitForText(*dir + "/stdout", "tokens reloaded\n"))
      << ReadFileOrEmpty(*dir + "/stderr");
  EXPECT_NE(HttpGet(http_port, "/api/v1/params", kRotated).find(" 200 "), std::string::npos);
  EXPECT_NE(HttpGet(http_port, "/api/v1/params", TestEnv::kReaderToken).find(" 401 "),
            std::string::npos);
  // A broken file: reported on stderr, the process keeps serving with the tokens it has.
  std::ofstream(files->token_file) << "short reader x\n";
  (*process)->Signal(SIGHUP);
  EXPECT_TRUE(WaitForText(*dir + "/stderr", "the tokens in use stay"))
      << ReadFileOrEmpty(*dir + "/stderr");
  EXPECT_NE(HttpGet(http_port, "/api/v1/params", kRotated).find(" 200 "), std::string::npos);

  (*process)->Signal(SIGTERM);
  std::optional<int> status = (*process)->WaitFor(absl::Seconds(20));
  ASSERT_TRUE(status.has_value()) << "no exit within 20 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_NE(ReadFileOrEmpty(*dir + "/stderr").find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace pinning::tests
