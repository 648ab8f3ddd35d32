// file_io.h: whole-file reads and crash-safe whole-file writes.
//
// WriteFileAtomically never leaves a half-written file under `path`: it writes a temporary file
// beside it, fsyncs it, renames it over `path` (atomic on POSIX file systems) and fsyncs the
// directory so the rename itself is durable. A crash at any point leaves either the old or the
// new contents. Files are created with the requested permissions (0600 by default) whatever the
// process umask.
//
//   RETURN_IF_ERROR(WriteFileAtomically("/profile/pinning.store", bytes, {}));
//   ASSIGN_OR_RETURN(std::string bytes, ReadFileToString("/profile/pinning.store"));
#ifndef CLIENT_FILE_IO_H_
#define CLIENT_FILE_IO_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::client {

struct AtomicWriteOptions {
  // Permissions of the new file.
  mode_t mode = 0600;
  // When not empty and `path` exists, the current file is hard-linked here just before the
  // rename, so the previous version survives as a backup (replacing an older backup).
  std::string backup_path;
  // Called after the temporary file is durable and before the rename; tests use it to stop the
  // process at that point.
  std::function<void()> before_rename_for_testing;
};

// WriteFileAtomically replaces `path` with `contents` as described above. The temporary file is
// `path` + ".tmp"; a stale one from an interrupted write is overwritten. Errors: the errno of
// the failing call as an absl::Status (e.g. PERMISSION_DENIED, NOT_FOUND for a missing
// directory), naming the file.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 const AtomicWriteOptions& options);

// ReadFileToString returns the whole file. Errors: NOT_FOUND when it does not exist, another
// errno-derived status otherwise.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// FileExists reports whether `path` names an existing file (following symlinks).
bool FileExists(const std::string& path);

}  // namespace pinning::client

#endif  // CLIENT_FILE_IO_H_
