#include "client/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pinning::client {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  // Close closes now and reports the error (a late write error can surface here).
  int Close() {
    const int result = close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 const AtomicWriteOptions& options) {
  const std::string temp = path + ".tmp";
  Fd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, options.mode));
  if (fd.get() < 0) return ErrnoStatus(errno, "cannot create", temp);
  // A stale temporary file keeps its old mode under O_CREAT, and the umask may have narrowed a
  // new one: set the mode explicitly.
  if (fchmod(fd.get(), options.mode) != 0) return ErrnoStatus(errno, "cannot chmod", temp);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd.get(), contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", temp);
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) return ErrnoStatus(errno, "cannot fsync", temp);
  if (fd.Close() != 0) return ErrnoStatus(errno, "cannot close", temp);

  if (options.before_rename_for_testing) options.before_rename_for_testing();

  if (!options.backup_path.empty() && FileExists(path)) {
    if (unlink(options.backup_path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "cannot remove old backup", options.backup_path);
    }
    if (link(path.c_str(), options.backup_path.c_str()) != 0) {
      return ErrnoStatus(errno, "cannot create backup", options.backup_path);
    }
  }
  if (rename(temp.c_str(), path.c_str()) != 0) return ErrnoStatus(errno, "cannot rename to", path);

  const std::string dir = DirectoryOf(path);
  Fd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return ErrnoStatus(errno, "cannot open directory", dir);
  if (fsync(dir_fd.get()) != 0) return ErrnoStatus(errno, "cannot fsync directory", dir);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "cannot open", path);
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace pinning::client
