#include "aggregator/alerts/alert_monitor.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/storage/day.h"

extern char** environ;

namespace pinning::aggregator {
namespace {

constexpr char kEnvPrefix[] = "PINNING_ALERT_";

std::vector<std::pair<std::string, std::string>> AlertEnvironment(const v1::Alert& alert) {
  auto number = [](double x) { return absl::StrFormat("%.6g", x); };
  return {
      {"ID", alert.id()},
      {"ORGANIZATION", alert.organization()},
      {"DAY", alert.day()},
      {"RATE", number(alert.rate())},
      {"LOW", number(alert.low())},
      {"HIGH", number(alert.high())},
      {"PINGS", absl::StrCat(alert.pings())},
      {"BASELINE_RATE", number(alert.baseline_rate())},
      {"BASELINE_LOW", number(alert.baseline_low())},
      {"BASELINE_HIGH", number(alert.baseline_high())},
      {"BASELINE_FROM_DAY", alert.baseline_from_day()},
      {"BASELINE_TO_DAY", alert.baseline_to_day()},
      {"RULE", alert.rule()},
      {"MESSAGE", alert.message()},
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlertMonitor>> AlertMonitor::Create(AlertMonitorOptions options,
                                                                   RatesFn rates,
                                                                   MetricsRegistry* metrics) {
  if (absl::Status s = ValidateSpikeRule(options.rule); !s.ok()) return s;
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("alert interval must be > 0");
  }
  if (options.history_days < 1 || options.recent_days < 1) {
    return absl::InvalidArgumentError("alert history_days and recent_days must be >= 1");
  }
  if (options.hook_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("alert hook_timeout must be > 0");
  }
  if (!options.hook_command.empty() && ::access(options.hook_command.c_str(), X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert hook command ", options.hook_command, " is not an executable file"));
  }
  if (rates == nullptr || metrics == nullptr) {
    return absl::InvalidArgumentError("alert monitor needs a rates source and metrics");
  }
  return std::unique_ptr<AlertMonitor>(
      new AlertMonitor(std::move(options), std::move(rates), metrics));
}

AlertMonitor::AlertMonitor(AlertMonitorOptions options, RatesFn rates, MetricsRegistry* metrics)
    : options_(std::move(options)),
      rates_(std::move(rates)),
      raised_(metrics->AddLabeledCounter("pinning_alerts_raised_total",
                                         "Spike alerts raised, by organization.", "organization")),
      active_(metrics->AddGauge("pinning_alerts_active",
                                "Alerts whose rule fired at the latest evaluation.")),
      evaluations_(metrics->AddLabeledCounter("pinning_alert_evaluations_total",
                                              "Alert evaluation passes, by result.", "result")),
      hook_runs_(metrics->AddLabeledCounter("pinning_alert_hook_runs_total",
                                            "Pager hook runs, by result.", "result")) {}

AlertMonitor::~AlertMonitor() { Shutdown(); }

void AlertMonitor::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void AlertMonitor::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AlertMonitor::Run() {
  while (true) {
    // Errors are counted in pinning_alert_evaluations_total{result="error"}; the next pass retries.
    (void)EvaluateOnce();
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + options_.interval;
    while (!stopping_ && absl::Now() < deadline) {
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), deadline);
    }
    if (stopping_) return;
  }
}

absl::Status AlertMonitor::EvaluateOnce() {
  absl::MutexLock pass_lock(&pass_mu_);
  const absl::Time now = options_.now();
  const DayNumber today = DayFromTime(now);
  const int days = first_pass_done_ ? options_.recent_days : options_.history_days;
  const DayNumber first = today - days + 1;
  absl::StatusOr<std::vector<v1::Alert>> found = DetectSpikes(rates_, first, today, options_.rule);
  if (!found.ok()) {
    evaluations_->Increment("error");
    return found.status();
  }
  first_pass_done_ = true;
  evaluations_->Increment("ok");

  std::vector<v1::Alert> raised;
  {
    absl::MutexLock lock(&mu_);
    const std::string first_text = FormatDay(first);
    // Alerts of the evaluated days that no longer fire turn inactive.
    for (auto& [key, alert] : alerts_) {
      if (key.first >= first_text) alert.set_active(false);
    }
    for (v1::Alert& alert : *found) {
      auto [it, inserted] = alerts_.try_emplace({alert.day(), alert.organization()}, v1::Alert());
      if (inserted) {
        alert.mutable_raised_at()->set_seconds(absl::ToUnixSeconds(now));
        raised_->Increment(alert.organization());
        absl::StatusOr<DayNumber> day = ParseDay(alert.day());
        if (!options_.hook_command.empty() && day.ok() &&
            *day >= today - options_.hook_max_age_days) {
          raised.push_back(alert);
        }
      } else {
        *alert.mutable_raised_at() = it->second.raised_at();
      }
      it->second = std::move(alert);
    }
    int64_t active = 0;
    for (const auto& [key, alert] : alerts_) active += alert.active() ? 1 : 0;
    active_->Set(active);
  }
  for (const v1::Alert& alert : raised) hook_runs_->Increment(RunHook(alert));
  return absl::OkStatus();
}

std::string AlertMonitor::RunHook(const v1::Alert& alert) const {
  // argv: the command and its configured arguments, never alert data.
  std::vector<std::string> args;
  args.push_back(options_.hook_command);
  args.insert(args.end(), options_.hook_args.begin(), options_.hook_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // envp: the inherited environment minus any PINNING_ALERT_ variables, then the alert's.
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, kEnvPrefix)) env.emplace_back(*e);
  }
  for (const auto& [name, value] : AlertEnvironment(alert)) {
    env.push_back(absl::StrCat(kEnvPrefix, name, "=", value));
  }
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data()) != 0) {
    return "spawn_error";
  }
  const absl::Time deadline = absl::Now() + options_.hook_timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed";
    if (done < 0 && errno != EINTR) return "failed";
    if (absl::Now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "timeout";
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::StatusOr<v1::AlertsResponse> AlertMonitor::List(const v1::AlertsRequest& request) const {
  for (const std::string* day : {&request.from_day(), &request.to_day()}) {
    if (!day->empty()) {
      if (absl::StatusOr<DayNumber> parsed = ParseDay(*day); !parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad day '", *day, "': ", parsed.status().message()));
      }
    }
  }
  v1::AlertsResponse response;
  absl::MutexLock lock(&mu_);
  for (const auto& [key, alert] : alerts_) {
    if (!request.from_day().empty() && key.first < request.from_day()) continue;
    if (!request.to_day().empty() && key.first > request.to_day()) continue;
    if (!request.organization().empty() && key.second != request.organization()) continue;
    *response.add_alerts() = alert;
  }
  return response;
}

}  // namespace pinning::aggregator
