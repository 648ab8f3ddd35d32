// subprocess.h: starts a binary for tests (aggregatord, aggctl) and waits for it or signals it.
//
//   absl::StatusOr<std::unique_ptr<Subprocess>> server = Subprocess::Start(
//       {RunfilePath("aggregator/serve/aggregatord"), "--insecure", "--data_dir=" + dir},
//       dir + "/stdout", dir + "/stderr");
//   (*server)->Signal(SIGKILL);
//   int status = (*server)->Wait();   // as from waitpid
//
// The destructor kills (SIGKILL) and reaps a process that is still running.
#ifndef TESTS_SUBPROCESS_H_
#define TESTS_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pinning::tests {

class Subprocess {
 public:
  // Start runs argv[0] with `argv`, stdout and stderr redirected to the given files (created or
  // truncated; empty means inherit).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv,
                                                           const std::string& stdout_path,
                                                           const std::string& stderr_path);
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Signal sends `signal` to the process.
  void Signal(int signal);
  // Wait blocks until the process exits and returns its waitpid status.
  int Wait();
  // WaitFor waits at most `timeout`; nullopt when it is still running.
  std::optional<int> WaitFor(absl::Duration timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;
};

// RunfilePath returns the path of a file of this workspace in the test's runfiles, e.g.
// RunfilePath("aggregator/serve/aggregatord").
std::string RunfilePath(const std::string& workspace_relative);

// ReadFileOrEmpty returns the contents of `path`, or "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// RunCommand runs argv to completion with a time limit, capturing stdout and stderr; returns the
// exit code (-1 when killed or timed out).
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& scratch_dir,
                         absl::Duration timeout = absl::Seconds(30));

}  // namespace pinning::tests

#endif  // TESTS_SUBPROCESS_H_
