// dashboard_dir.h: where aggregatord finds the dashboard's files by default.
//
// The files are built by //aggregator/dashboard:www (index.html, app.js, style.css and the
// charting library's dist files) into bazel-bin/aggregator/dashboard/www, and a binary that lists
// them in its `data` finds them in its runfiles. DefaultDashboardDir returns the first of
//   $RUNFILES_DIR/<workspace>/aggregator/dashboard/www   (bazel run, bazel test)
//   <argv0>.runfiles/<workspace>/aggregator/dashboard/www (the binary started by path)
// that holds an index.html, or "" when none does (then pass --dashboard_dir).
//
//   ABSL_FLAG(std::string, dashboard_dir, "", "...; default: the built-in files");
//   std::string dir = absl::GetFlag(FLAGS_dashboard_dir);
//   if (dir.empty()) dir = DefaultDashboardDir(argv[0]);
#ifndef AGGREGATOR_DASHBOARD_DASHBOARD_DIR_H_
#define AGGREGATOR_DASHBOARD_DASHBOARD_DIR_H_

#include <string>

namespace pinning::aggregator {

// kDashboardRunfilesPath is the files' folder relative to a runfiles root.
inline constexpr char kDashboardRunfilesPath[] = "pinning_telemetry/aggregator/dashboard/www";

// DefaultDashboardDir returns the dashboard folder found from the runfiles, or "".
std::string DefaultDashboardDir(const char* argv0);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_DASHBOARD_DASHBOARD_DIR_H_
