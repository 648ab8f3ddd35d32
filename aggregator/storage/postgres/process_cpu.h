// process_cpu.h: CPU time of processes, read from /proc/<pid>/stat, for load measurements.
//
//   ASSIGN_OR_RETURN(absl::Duration before, ProcessCpuTime(pid, /*with_children=*/true));
//   ... run the load ...
//   ASSIGN_OR_RETURN(absl::Duration after, ProcessCpuTime(pid, /*with_children=*/true));
//   double ms_per_1000 = absl::ToDoubleMilliseconds(after - before) * 1000 / pings;
//
// Fields 14-17 of /proc/<pid>/stat (proc(5)) are utime, stime, cutime and cstime in clock ticks:
// the process's own user and system time, and that of its children it has waited for. A server
// that forks a process per connection (PostgreSQL) spends most CPU in live children, so
// with_children also adds utime + stime of every live child (found through /proc/<child>/stat's
// ppid field).
#ifndef AGGREGATOR_STORAGE_POSTGRES_PROCESS_CPU_H_
#define AGGREGATOR_STORAGE_POSTGRES_PROCESS_CPU_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pinning::aggregator::postgres {

// ProcessCpuTime returns the user + system CPU time of `pid` (see the file comment for
// with_children). NOT_FOUND when the process does not exist.
[[nodiscard]] absl::StatusOr<absl::Duration> ProcessCpuTime(pid_t pid, bool with_children);

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_PROCESS_CPU_H_
