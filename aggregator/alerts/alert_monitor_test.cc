#include "aggregator/alerts/alert_monitor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

using ::testing::HasSubstr;

constexpr DayNumber kToday = 20000;
const char kEvilOrg[] = "Evil $(touch pwned); `id` Org";

// FakeRates serves per-day points of 2% (SE 0.5%) for "Acorn Bank" and kEvilOrg, pooled baselines
// of 2% (SE 0.2%), and a 30% spike for kEvilOrg on the configured day.
class FakeRates {
 public:
  void SetSpike(DayNumber day) {
    absl::MutexLock lock(&mu_);
    spike_day_ = day;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  RatesFn Fn() {
    return [this](const v1::RatesRequest& request) -> absl::StatusOr<v1::RatesResponse> {
      absl::MutexLock lock(&mu_);
      ++calls_;
      if (fail_) return absl::UnavailableError("down");
      v1::RatesResponse response;
      for (const std::string& org : {std::string("Acorn Bank"), std::string(kEvilOrg)}) {
        v1::RateSeries* series = response.add_series();
        series->set_key(org);
        if (!request.per_day()) {
          v1::RatePoint* p = series->add_points();
          p->set_sufficient(true);
          p->set_rate(0.02);
          p->set_std_error(0.002);
          p->set_pings(7000);
          continue;
        }
        for (DayNumber d = *ParseDay(request.from_day()); d <= *ParseDay(request.to_day()); ++d) {
          v1::RatePoint* p = series->add_points();
          p->set_day(FormatDay(d));
          p->set_sufficient(true);
          p->set_rate(org == kEvilOrg && d == spike_day_ ? 0.3 : 0.02);
          p->set_std_error(0.005);
          p->set_pings(1000);
        }
      }
      return response;
    };
  }
  bool fail_ = false;

 private:
  mutable absl::Mutex mu_;
  DayNumber spike_day_ = 0;
  int calls_ = 0;
};

std::string WriteHook(const std::string& body) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/hook-",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".sh");
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0700);
  return path;
}

std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    env[kv.first] = kv.second;
  }
  return env;
}

AlertMonitorOptions Options() {
  AlertMonitorOptions options;
  options.now = [] { return absl::FromUnixSeconds(int64_t{kToday} * 86400 + 3600); };
  options.history_days = 30;
  options.recent_days = 3;
  return options;
}

TEST(AlertMonitorTest, RejectsBadOptions) {
  MetricsRegistry metrics;
  FakeRates rates;
  AlertMonitorOptions options = Options();
  options.rule.z = -1;
  EXPECT_EQ(AlertMonitor::Create(options, rates.Fn(), &metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.hook_command = "/nonexistent/pager";
  EXPECT_EQ(AlertMonitor::Create(options, rates.Fn(), &metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.recent_days = 0;
  EXPECT_EQ(AlertMonitor::Create(options, rates.Fn(), &metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A spike yesterday raises one alert, counts it, and pages with the alert in environment
// variables; shell syntax in the organization's name stays inert data.
TEST(AlertMonitorTest, RaisesCountsAndPagesThroughTheEnvironment) {
  MetricsRegistry metrics;
  FakeRates rates;
  rates.SetSpike(kToday - 1);
  const std::string env_file = ::testing::TempDir() + "/hook-env.txt";
  const std::string workdir = ::testing::TempDir() + "/hookdir";
  ::mkdir(workdir.c_str(), 0700);
  AlertMonitorOptions options = Options();
  options.hook_command = WriteHook("cd \"$2\" && env | grep '^PINNING_ALERT_' > \"$1\"\n");
  options.hook_args = {env_file, workdir};
  auto monitor = AlertMonitor::Create(options, rates.Fn(), &metrics);
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  ASSERT_TRUE((*monitor)->EvaluateOnce().ok());

  auto listed = (*monitor)->List({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->alerts_size(), 1);
  const v1::Alert& alert = listed->alerts(0);
  EXPECT_EQ(alert.organization(), kEvilOrg);
  EXPECT_EQ(alert.day(), FormatDay(kToday - 1));
  EXPECT_TRUE(alert.active());
  EXPECT_EQ(alert.raised_at().seconds(), int64_t{kToday} * 86400 + 3600);

  const std::string text = metrics.ExportPrometheus();
  EXPECT_THAT(text, HasSubstr("pinning_alerts_active 1"));
  EXPECT_THAT(text, HasSubstr("pinning_alert_evaluations_total{result=\"ok\"} 1"));
  EXPECT_THAT(text, HasSubstr("pinning_alert_hook_runs_total{result=\"ok\"} 1"));
  EXPECT_THAT(text, HasSubstr("pinning_alerts_raised_total{organization="));

  std::map<std::string, std::string> env = ReadEnvFile(env_file);
  EXPECT_EQ(env["PINNING_ALERT_ORGANIZATION"], kEvilOrg);
  EXPECT_EQ(env["PINNING_ALERT_DAY"], FormatDay(kToday - 1));
  EXPECT_EQ(env["PINNING_ALERT_RATE"], "0.3");
  EXPECT_EQ(env["PINNING_ALERT_PINGS"], "1000");
  EXPECT_EQ(env["PINNING_ALERT_BASELINE_RATE"], "0.02");
  EXPECT_EQ(env["PINNING_ALERT_ID"], absl::StrCat(kEvilOrg, "/", FormatDay(kToday - 1)));
  EXPECT_THAT(env["PINNING_ALERT_MESSAGE"], HasSubstr("30.00%"));
  EXPECT_NE(::access((workdir + "/pwned").c_str(), F_OK), 0) << "a shell interpreted alert data";

  // A second pass re-finds the same alert: no new page, no new count.
  ASSERT_EQ(::unlink(env_file.c_str()), 0);
  ASSERT_TRUE((*monitor)->EvaluateOnce().ok());
  EXPECT_NE(::access(env_file.c_str(), F_OK), 0);
  EXPECT_THAT(metrics.ExportPrometheus(),
              HasSubstr("pinning_alert_hook_runs_total{result=\"ok\"} 1\n"));
}

// The first pass covers the history; alerts older than hook_max_age_days do not page. When a
// later pass no longer finds an alert of a recent day, it turns inactive but stays listed.
TEST(AlertMonitorTest, HistoryDoesNotPageAndVanishedAlertsTurnInactive) {
  MetricsRegistry metrics;
  FakeRates rates;
  rates.SetSpike(kToday - 20);
  const std::string env_file = ::testing::TempDir() + "/hook-env-old.txt";
  AlertMonitorOptions options = Options();
  options.hook_command = WriteHook("env > \"$1\"\n");
  options.hook_args = {env_file};
  auto monitor = AlertMonitor::Create(options, rates.Fn(), &metrics);
  ASSERT_TRUE(monitor.ok());
  ASSERT_TRUE((*monitor)->EvaluateOnce().ok());
  auto listed = (*monitor)->List({});
  ASSERT_EQ(listed->alerts_size(), 1);
  EXPECT_EQ(listed->alerts(0).day(), FormatDay(kToday - 20));
  EXPECT_NE(::access(env_file.c_str(), F_OK), 0) << "an old alert paged";

  // Today's spike appears, then disappears on the next pass.
  rates.SetSpike(kToday);
  ASSERT_TRUE((*monitor)->EvaluateOnce().ok());
  EXPECT_EQ((*monitor)->List({})->alerts_size(), 2);
  EXPECT_THAT(metrics.ExportPrometheus(), HasSubstr("pinning_alerts_active 2"));
  rates.SetSpike(0);
  ASSERT_TRUE((*monitor)->EvaluateOnce().ok());
  listed = (*monitor)->List({});
  ASSERT_EQ(listed->alerts_size(), 2);
  EXPECT_TRUE(listed->alerts(0).active());   // kToday - 20: outside recent_days, unchanged
  EXPECT_FALSE(listed->alerts(1).active());  // kToday: no longer fires
  EXPECT_THAT(metrics.ExportPrometheus(), HasSubstr("pinning_alerts_active 1"));

  // Filters.
  v1::AlertsRequest request;
  request.set_from_day(FormatDay(kToday - 1));
  EXPECT_EQ((*monitor)->List(request)->alerts_size(), 1);
  request.set_organization("Acorn Bank");
  EXPECT_EQ((*monitor)->List(request)->alerts_size(), 0);
  request.set_from_day("yesterday");
  EXPECT_EQ((*monitor)->List(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AlertMonitorTest, SlowHookIsKilledAndErrorsAreCounted) {
  MetricsRegistry metrics;
  FakeRates rates;
  rates.SetSpike(kToday);
  AlertMonitorOptions options = Options();
  options.hook_command = WriteHook("exec sleep 30\n");
  options.hook_timeout = absl::Milliseconds(200);
  auto monitor = AlertMonitor::Create(options, rates.Fn(), &metrics);
  ASSERT_TRUE(monitor.ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE((*monitor)->EvaluateOnce().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_THAT(metrics.ExportPrometheus(),
              HasSubstr("pinning_alert_hook_runs_total{result=\"timeout\"} 1"));

  rates.fail_ = true;
  EXPECT_EQ((*monitor)->EvaluateOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(metrics.ExportPrometheus(),
              HasSubstr("pinning_alert_evaluations_total{result=\"error\"} 1"));
}

TEST(AlertMonitorTest, BackgroundThreadEvaluatesPeriodically) {
  MetricsRegistry metrics;
  FakeRates rates;
  AlertMonitorOptions options = Options();
  options.interval = absl::Milliseconds(5);
  auto monitor = AlertMonitor::Create(options, rates.Fn(), &metrics);
  ASSERT_TRUE(monitor.ok());
  (*monitor)->Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (rates.calls() < 10 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  (*monitor)->Shutdown();
  EXPECT_GE(rates.calls(), 10);
  const int after = rates.calls();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(rates.calls(), after);
}

}  // namespace
}  // namespace pinning::aggregator
