// count_store_test_suite.h: the conformance suite every CountStore backend must pass.
//
// Each backend instantiates the suite once with a factory that opens (or reopens) its store at a
// location; the suite creates a fresh location per test and reopens it to check durability.
//
//   INSTANTIATE_TEST_SUITE_P(
//       Sqlite, CountStoreConformanceTest,
//       ::testing::Values(CountStoreFactory{
//           "sqlite", [](const std::string& dir) -> absl::StatusOr<std::unique_ptr<CountStore>> {
//             SqliteStoreOptions options;
//             options.path = dir + "/store.db";
//             return SqliteStore::Open(options);
//           }}),
//       [](const auto& info) { return info.param.name; });
//
// A PostgreSQL backend would map the location to a fresh schema or database.
#ifndef AGGREGATOR_STORAGE_COUNT_STORE_TEST_SUITE_H_
#define AGGREGATOR_STORAGE_COUNT_STORE_TEST_SUITE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/storage/count_store.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {

struct CountStoreFactory {
  // Test-name-safe backend name.
  std::string name;
  // Opens the store stored at `location` (an empty directory the first time), creating it when
  // missing. Opening the same location again must see everything committed before.
  std::function<absl::StatusOr<std::unique_ptr<CountStore>>(const std::string& location)> open;
};

class CountStoreConformanceTest : public ::testing::TestWithParam<CountStoreFactory> {
 protected:
  void SetUp() override;
  // Open opens the store at this test's location.
  std::unique_ptr<CountStore> Open();
  // OpenAt opens the store at another fresh location of this test (`suffix` names it).
  std::unique_ptr<CountStore> OpenAt(const std::string& suffix);

  std::string location_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_COUNT_STORE_TEST_SUITE_H_
