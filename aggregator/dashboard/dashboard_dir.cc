#include "aggregator/dashboard/dashboard_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace pinning::aggregator {

std::string DefaultDashboardDir(const char* argv0) {
  std::vector<std::string> candidates;
  if (const char* runfiles = std::getenv("RUNFILES_DIR"); runfiles != nullptr && *runfiles) {
    candidates.push_back(std::string(runfiles) + "/" + kDashboardRunfilesPath);
  }
  if (argv0 != nullptr && *argv0) {
    candidates.push_back(std::string(argv0) + ".runfiles/" + kDashboardRunfilesPath);
  }
  for (const std::string& dir : candidates) {
    if (::access((dir + "/index.html").c_str(), R_OK) == 0) return dir;
  }
  return "";
}

}  // namespace pinning::aggregator
