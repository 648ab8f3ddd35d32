#include "aggregator/dashboard/dashboard_dir.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

// Under bazel test, RUNFILES_DIR holds the built dashboard (a data dependency of this test).
TEST(DashboardDirTest, FindsTheBuiltFilesInTheRunfiles) {
  const std::string dir = DefaultDashboardDir(nullptr);
  ASSERT_FALSE(dir.empty());
  for (const char* name :
       {"index.html", "app.js", "style.css", "uPlot.iife.min.js", "uPlot.min.css"}) {
    std::ifstream in(dir + "/" + name);
    EXPECT_TRUE(in.good()) << name;
  }
  std::ifstream index(dir + "/index.html");
  std::string html((std::istreambuf_iterator<char>(index)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("uPlot.iife.min.js"), std::string::npos);
}

TEST(DashboardDirTest, EmptyWhenNothingIsThere) {
  ASSERT_EQ(setenv("RUNFILES_DIR", "/nonexistent", 1), 0);
  EXPECT_EQ(DefaultDashboardDir("/nonexistent/aggregatord"), "");
}

}  // namespace
}  // namespace pinning::aggregator
