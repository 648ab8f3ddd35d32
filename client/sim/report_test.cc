#include "client/sim/report.h"

#include <limits>
#include <sstream>

#include "gtest/gtest.h"
#include "privacy/json_writer.h"

namespace pinning::client::sim {
namespace {

SimReport SmallReport() {
  SimReport report;
  report.browsers = 100;
  report.params_version = 2;
  report.epsilon_one = 1.5;
  report.epsilon_inf = std::numeric_limits<double>::infinity();
  SimCell cell;
  cell.organization = "Tor \"Project\"";
  cell.day = "2024-05-01";
  cell.checked = 40;
  cell.violated = 2;
  cell.true_rate = 0.05;
  cell.estimate.set_sufficient(true);
  cell.estimate.set_rate(0.07);
  cell.estimate.set_ci_low(0.01);
  cell.estimate.set_ci_high(0.13);
  cell.estimate.set_pings(100);
  cell.covered = true;
  report.cells.push_back(cell);
  cell.day = "2024-05-02";
  cell.estimate = v1::RatePoint();
  cell.estimate.set_insufficient_reason("checked estimate <= 0");
  cell.covered = false;
  report.cells.push_back(cell);
  report.insufficient = 1;
  report.coverage = CheckCoverage(2, 1);
  return report;
}

TEST(ReportTest, TableShowsEveryCellAndTheVerdict) {
  std::ostringstream out;
  PrintTable(SmallReport(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find("[0.0100, 0.1300]"), std::string::npos);
  EXPECT_NE(text.find("checked estimate <= 0"), std::string::npos);
  EXPECT_NE(text.find("1 of 2 intervals"), std::string::npos);
  EXPECT_NE(text.find(" NO"), std::string::npos);
}

TEST(ReportTest, JsonEscapesAndWritesInfinityAsAString) {
  std::ostringstream out;
  PrintJson(SmallReport(), out);
  const std::string json = out.str();
  EXPECT_NE(json.find("\"organization\":\"Tor \\\"Project\\\"\""), std::string::npos);
  EXPECT_NE(json.find("\"epsilon_inf\":\"inf\""), std::string::npos);
  EXPECT_NE(json.find("\"days\":2"), std::string::npos);
  EXPECT_NE(json.find("\"first_day\":\"2024-05-01\""), std::string::npos);
  EXPECT_NE(json.find("\"plausible\":true"), std::string::npos);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(privacy::JsonQuote("a\nb\x01"), "\"a\\nb\\u0001\"");
  EXPECT_EQ(JsonNumber(std::nan("")), "null");
  EXPECT_EQ(JsonNumber(0.25), "0.25");
}

}  // namespace
}  // namespace pinning::client::sim
