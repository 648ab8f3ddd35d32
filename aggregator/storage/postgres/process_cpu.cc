#include "aggregator/storage/postgres/process_cpu.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pinning::aggregator::postgres {
namespace {

struct Stat {
  pid_t ppid = 0;
  int64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
};

bool ReadStat(pid_t pid, Stat& out) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return false;
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::vector<std::string> f = absl::StrSplit(line.substr(close + 2), ' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  if (f.size() < 15) return false;
  out.ppid = static_cast<pid_t>(std::atol(f[1].c_str()));
  out.utime = std::atoll(f[11].c_str());
  out.stime = std::atoll(f[12].c_str());
  out.cutime = std::atoll(f[13].c_str());
  out.cstime = std::atoll(f[14].c_str());
  return true;
}

}  // namespace

absl::StatusOr<absl::Duration> ProcessCpuTime(pid_t pid, bool with_children) {
  Stat self;
  if (!ReadStat(pid, self)) return absl::NotFoundError(absl::StrCat("no process ", pid));
  int64_t ticks = self.utime + self.stime;
  if (with_children) {
    ticks += self.cutime + self.cstime;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] < '1' || name[0] > '9') continue;
      Stat child;
      const pid_t child_pid = static_cast<pid_t>(std::atol(name.c_str()));
      if (ReadStat(child_pid, child) && child.ppid == pid) ticks += child.utime + child.stime;
    }
  }
  return absl::Seconds(static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK)));
}

}  // namespace pinning::aggregator::postgres
