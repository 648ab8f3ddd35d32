// The pinsim binary against a real aggregator: a small run succeeds with a plausible coverage and
// valid JSON-looking output; a second run over the same days is refused (its estimates would mix
// runs); bad usage exits with status 2.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_env.h"

namespace pinning::tests {
namespace {

struct PinsimRun {
  int exit_status = -1;
  std::string out;
  std::string err;
};

PinsimRun RunPinsim(const std::string& args) {
  const std::string err_file = ::testing::TempDir() + "/pinsim.err";
  const std::string command = absl::StrCat("client/sim/pinsim ", args, " 2>", err_file);
  PinsimRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return run;
}

int Count(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(PinsimE2eTest, RunsChecksItselfAndRefusesToMixRuns) {
  absl::StatusOr<std::unique_ptr<AggregatorEnv>> env = AggregatorEnv::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string token_file = ::testing::TempDir() + "/admin.token";
  std::ofstream(token_file) << AggregatorEnv::kAdminToken << "\n";
  const std::string common =
      absl::StrCat("--server=", (*env)->target(), " --ca_file=", (*env)->certs().ca_file,
                   " --token_file=", token_file, " --data_dir=client/data");

  PinsimRun run =
      RunPinsim(absl::StrCat(common,
                             " --browsers=400 --days=3 --threads=4 --json --progress=false"
                             " --transport=batch --f=0.25 --p=0.25 --q=0.75"));
  ASSERT_EQ(run.exit_status, 0) << run.err << run.out;
  EXPECT_NE(run.out.find("\"plausible\":true"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"acknowledged\":1200,"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"browsers\":400,"), std::string::npos);
  EXPECT_EQ(Count(run.out, "\"organization\":"), 6 * 3);  // every organization, every day
  EXPECT_EQ(run.out.back(), '\n');

  PinsimRun again = RunPinsim(absl::StrCat(common, " --browsers=50 --days=3 --progress=false"));
  EXPECT_EQ(again.exit_status, 1);
  EXPECT_NE(again.err.find("already counts"), std::string::npos) << again.err;

  PinsimRun usage = RunPinsim(absl::StrCat(common, " --transport=carrier-pigeon"));
  EXPECT_EQ(usage.exit_status, 2) << usage.err;
}

}  // namespace
}  // namespace pinning::tests
