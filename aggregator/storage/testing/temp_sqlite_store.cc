#include "aggregator/storage/testing/temp_sqlite_store.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::testing {

absl::StatusOr<std::string> TempTestDir() {
  // Inside a test: its suite and name; in SetUpTestSuite: the suite's name.
  const ::testing::UnitTest* unit = ::testing::UnitTest::GetInstance();
  const ::testing::TestInfo* info = unit->current_test_info();
  const ::testing::TestSuite* suite = unit->current_test_suite();
  std::string name = info != nullptr    ? absl::StrCat(info->test_suite_name(), "_", info->name())
                     : suite != nullptr ? absl::StrCat(suite->name(), "_suite")
                                        : std::string("outside_tests");
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name, "_", getpid());
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  if (!std::filesystem::create_directories(dir, error) || error) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  return dir;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> OpenTempSqliteStore(SqliteStoreOptions options) {
  absl::StatusOr<std::string> dir = TempTestDir();
  if (!dir.ok()) return dir.status();
  options.path = absl::StrCat(*dir, "/store.db");
  return SqliteStore::Open(std::move(options));
}

}  // namespace pinning::aggregator::testing
