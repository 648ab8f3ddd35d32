// temp_sqlite_store.h: a fresh SQLite store per test.
//
//   void SetUp() override {
//     absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenTempSqliteStore();
//     ASSERT_TRUE(store.ok()) << store.status();
//     store_ = *std::move(store);
//   }
#ifndef AGGREGATOR_STORAGE_TESTING_TEMP_SQLITE_STORE_H_
#define AGGREGATOR_STORAGE_TESTING_TEMP_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/storage/sqlite_store.h"

namespace pinning::aggregator::testing {

// TempTestDir returns a new, empty directory under $TEST_TMPDIR (or /tmp) named after the running
// test (or, in SetUpTestSuite, its suite) and this process, so that no two tests (or runs) share
// it.
[[nodiscard]] absl::StatusOr<std::string> TempTestDir();

// OpenTempSqliteStore opens an empty SqliteStore in TempTestDir(), with `options.path` set to
// store.db there (the other options are kept).
[[nodiscard]] absl::StatusOr<std::unique_ptr<SqliteStore>> OpenTempSqliteStore(
    SqliteStoreOptions options = {});

}  // namespace pinning::aggregator::testing

#endif  // AGGREGATOR_STORAGE_TESTING_TEMP_SQLITE_STORE_H_
