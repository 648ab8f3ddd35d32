#include "aggregator/storage/counts_csv.h"


#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/sqlite_store.h"
#include "aggregator/storage/testing/temp_sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

class CountsCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = testing::OpenTempSqliteStore();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // Stores params version `version` over a catalog of `k` pinsets reporting `s` per ping.
  void Publish(uint32_t version, int k, uint32_t s) {
    v1::Catalog catalog;
    catalog.set_version(absl::StrCat("cat", k));
    for (int i = 0; i < k; ++i) catalog.add_pinsets()->set_index(i);
    ASSERT_TRUE(store_->PutCatalog(catalog).ok());
    v1::ParamsVersion params;
    params.set_version(version);
    params.set_catalog_version(catalog.version());
    params.mutable_params()->set_f(0.5);
    params.mutable_params()->set_p(0.5);
    params.mutable_params()->set_q(0.75);
    params.mutable_params()->set_pinsets_per_ping(s);
    params.mutable_params()->set_bits_per_pinset(2);
    ASSERT_TRUE(store_->PutParamsVersion(params).ok());
  }

  void Add(uint32_t params, const std::string& catalog, const std::string& day,
           const std::string& product, int32_t pinset, int64_t reports,
           std::array<int64_t, kMaxBitsPerPinset> ones) {
    CountRow row;
    row.day = *ParseDay(day);
    row.params_version = params;
    row.catalog_version = catalog;
    row.product = product;
    row.channel = "stable";
    row.major_version = 120;
    row.pinset = pinset;
    row.reports = reports;
    row.ones = ones;
    ASSERT_TRUE(store_->AddCounts({row}).ok());
  }

  std::unique_ptr<SqliteStore> store_;
};

TEST_F(CountsCsvTest, RapporRowPerGroupWhenEveryPinsetIsReported) {
  Publish(1, 2, 2);
  // Two groups (two days); within a group the columns are pinset0 bit0, bit1, pinset1 bit0, bit1.
  Add(1, "cat2", "2024-03-01", "chrome", -1, 100, {});
  Add(1, "cat2", "2024-03-01", "chrome", 0, 100, {60, 10, 0, 0});
  Add(1, "cat2", "2024-03-01", "chrome", 1, 100, {55, 5, 0, 0});
  Add(1, "cat2", "2024-03-02", "chrome", -1, 50, {});
  Add(1, "cat2", "2024-03-02", "chrome", 1, 50, {20, 2, 0, 0});
  // Another params version is not exported.
  Add(7, "cat2", "2024-03-01", "chrome", -1, 999, {});
  std::stringstream counts, params, labels;
  ASSERT_TRUE(ExportRapporCsv(*store_, 1, counts, params, &labels).ok());
  EXPECT_EQ(counts.str(), "100,60,10,55,5\n50,0,0,20,2\n");
  EXPECT_EQ(params.str(), "k,h,m,p,q,f\n4,1,2,0.5,0.75,0.5\n");
  EXPECT_EQ(labels.str(), "2024-03-01,cat2,chrome,stable,120\n2024-03-02,cat2,chrome,stable,120\n");
}

TEST_F(CountsCsvTest, RapporRowPerPinsetWhenPingsReportASubset) {
  Publish(2, 3, 1);
  Add(2, "cat3", "2024-03-01", "chrome", -1, 90, {});
  Add(2, "cat3", "2024-03-01", "chrome", 0, 30, {12, 3, 0, 0});
  Add(2, "cat3", "2024-03-01", "chrome", 2, 60, {40, 7, 0, 0});
  std::stringstream counts, params;
  ASSERT_TRUE(ExportRapporCsv(*store_, 2, counts, params, nullptr).ok());
  EXPECT_EQ(counts.str(), "30,12,3\n60,40,7\n");
  EXPECT_EQ(params.str(), "k,h,m,p,q,f\n2,1,2,0.5,0.75,0.5\n");
}

TEST_F(CountsCsvTest, RapporExportErrors) {
  std::stringstream counts, params;
  EXPECT_EQ(ExportRapporCsv(*store_, 5, counts, params, nullptr).code(),
            absl::StatusCode::kNotFound);
  v1::ParamsVersion orphan;
  orphan.set_version(5);
  orphan.set_catalog_version("missing");
  ASSERT_TRUE(store_->PutParamsVersion(orphan).ok());
  EXPECT_EQ(ExportRapporCsv(*store_, 5, counts, params, nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CountsCsvTest, ImportRejectsMalformedInputAndAddsNothing) {
  const std::string header = absl::StrCat(kCountsCsvHeader, "\n");
  const std::string good = "2024-03-01,1,cat,chrome,stable,120,0,10,5,1,0,0\n";
  const std::vector<std::string> bad_inputs = {
      "day,params\n" + good,                                                 // wrong header
      header + good + "2024-03-01,1,cat,chrome,stable,120,0,10,5,1,0\n",     // 11 fields
      header + good + "2024-3-01,1,cat,chrome,stable,120,0,10,5,1,0,0\n",    // bad day
      header + good + "2024-03-01,0,cat,chrome,stable,120,0,10,5,1,0,0\n",   // params 0
      header + good + "2024-03-01,1,,chrome,stable,120,0,10,5,1,0,0\n",      // no catalog
      header + good + "2024-03-01,1,cat,chrome,stable,120,-2,10,5,1,0,0\n",  // pinset -2
      header + good + "2024-03-01,1,cat,chrome,stable,120,0,-1,0,0,0,0\n",   // negative
      header + good + "2024-03-01,1,cat,chrome,stable,120,0,10,11,1,0,0\n",  // ones > reports
      header + good + "2024-03-01,1,cat,chrome,stable,x,0,10,5,1,0,0\n",     // major
  };
  for (const std::string& input : bad_inputs) {
    std::stringstream in(input);
    absl::Status s = ImportCountsCsv(in, *store_);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << input;
  }
  std::stringstream out;
  ASSERT_TRUE(ExportCountsCsv(*store_, out).ok());
  EXPECT_EQ(out.str(), header);  // nothing was imported
}

}  // namespace
}  // namespace pinning::aggregator
