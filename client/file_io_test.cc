#include "client/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

std::string TempPath(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/file_io_", name);
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(FileIoTest, WritesAndReadsBack) {
  const std::string path = TempPath("plain");
  const std::string contents("binary\0data\n", 12);
  ASSERT_TRUE(WriteFileAtomically(path, contents, {}).ok());
  absl::StatusOr<std::string> back = ReadFileToString(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, contents);
  EXPECT_FALSE(FileExists(path + ".tmp")) << "the temporary file was renamed";
  ASSERT_TRUE(WriteFileAtomically(path, "second", {}).ok());
  EXPECT_EQ(*ReadFileToString(path), "second");
}

TEST(FileIoTest, CreatesFilesWith0600WhateverTheUmask) {
  const std::string path = TempPath("mode");
  const mode_t old_umask = umask(0);
  ASSERT_TRUE(WriteFileAtomically(path, "x", {}).ok());
  umask(old_umask);
  EXPECT_EQ(ModeOf(path), 0600u);
  // A stale world-readable temporary file does not leak its mode into the new file.
  std::ofstream(path + ".tmp") << "stale";
  ASSERT_EQ(chmod((path + ".tmp").c_str(), 0644), 0);
  ASSERT_TRUE(WriteFileAtomically(path, "y", {}).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST(FileIoTest, KeepsTheOldVersionAsBackup) {
  const std::string path = TempPath("with_backup");
  const std::string backup = path + ".bak";
  ASSERT_TRUE(WriteFileAtomically(path, "v1", {.backup_path = backup}).ok());
  EXPECT_FALSE(FileExists(backup)) << "nothing to back up the first time";
  ASSERT_TRUE(WriteFileAtomically(path, "v2", {.backup_path = backup}).ok());
  EXPECT_EQ(*ReadFileToString(backup), "v1");
  ASSERT_TRUE(WriteFileAtomically(path, "v3", {.backup_path = backup}).ok());
  EXPECT_EQ(*ReadFileToString(backup), "v2");
  EXPECT_EQ(*ReadFileToString(path), "v3");
}

TEST(FileIoTest, HookRunsBeforeTheRename) {
  const std::string path = TempPath("hook");
  ASSERT_TRUE(WriteFileAtomically(path, "old", {}).ok());
  std::string seen_at_hook;
  ASSERT_TRUE(WriteFileAtomically(path, "new",
                                  {.before_rename_for_testing =
                                       [&] {
                                         seen_at_hook = *ReadFileToString(path);
                                         EXPECT_EQ(*ReadFileToString(path + ".tmp"), "new");
                                       }})
                  .ok());
  EXPECT_EQ(seen_at_hook, "old");
  EXPECT_EQ(*ReadFileToString(path), "new");
}

TEST(FileIoTest, ReportsErrors) {
  EXPECT_EQ(ReadFileToString(TempPath("missing")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(WriteFileAtomically("/nonexistent-dir/x", "x", {}).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(FileExists(TempPath("missing")));
}

}  // namespace
}  // namespace pinning::client
