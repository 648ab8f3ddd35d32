// alert_monitor.h: evaluates the spike rule in the background, keeps the alerts, counts them in
// metrics, and runs an optional pager hook per new alert.
//
// Each pass decodes organizations' rates (through `rates`, e.g. Decoder::Rates) and applies
// DetectSpikes (spike_detector.h) to the days that may still change: the first pass covers the
// last `history_days` days (so a restarted aggregator shows its recent alerts again), later
// passes the last `recent_days` days (pings for a day keep arriving for max_age_days).
// An alert is kept per (organization, day). Later passes update its numbers; if the rule no
// longer fires for that day (later pings moved the estimate) the alert stays listed with
// active = false.
//
// Pager hook. When `hook_command` is set, each newly raised alert whose day is at most
// `hook_max_age_days` old runs it once, directly (posix_spawn, no shell), with `hook_args` as
// arguments and the alert in environment variables: PINNING_ALERT_ID, _ORGANIZATION, _DAY, _RATE,
// _LOW, _HIGH, _PINGS, _BASELINE_RATE, _BASELINE_LOW, _BASELINE_HIGH, _BASELINE_FROM_DAY,
// _BASELINE_TO_DAY, _RULE and _MESSAGE. Alert data never passes through a shell string, so an
// organization name like "x; rm -rf /" is only ever a value. A hook that runs longer than
// `hook_timeout` is killed. A restart re-raises recent alerts, so the hook is at-least-once.
//
// Metrics: pinning_alerts_raised_total{organization}, pinning_alerts_active,
// pinning_alert_evaluations_total{result="ok"|"error"}, pinning_alert_hook_runs_total{result=
// "ok"|"failed"|"timeout"|"spawn_error"}.
//
//   AlertMonitorOptions options;
//   options.hook_command = "/usr/local/bin/page-oncall";
//   ASSIGN_OR_RETURN(std::unique_ptr<AlertMonitor> monitor,
//                    AlertMonitor::Create(options, [&](const v1::RatesRequest& r) {
//                      return decoder->Rates(r); }, &metrics));
//   monitor->Start();                      // background thread, one pass per `interval`
//   ASSIGN_OR_RETURN(v1::AlertsResponse alerts, monitor->List(request));
//   monitor->Shutdown();
//
// Thread safety: every method may be called from any thread.
#ifndef AGGREGATOR_ALERTS_ALERT_MONITOR_H_
#define AGGREGATOR_ALERTS_ALERT_MONITOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/alerts/alerts.pb.h"
#include "aggregator/alerts/spike_detector.h"
#include "aggregator/metrics/metrics.h"

namespace pinning::aggregator {

struct AlertMonitorOptions {
  SpikeRuleOptions rule;
  // Time between passes of the background thread.
  absl::Duration interval = absl::Minutes(1);
  // Days covered by the first pass, ending today (UTC).
  int history_days = 60;
  // Days covered by later passes, ending today: those that may still receive pings.
  int recent_days = 9;
  // Pager hook (see the file comment); empty: none.
  std::string hook_command;
  std::vector<std::string> hook_args;
  absl::Duration hook_timeout = absl::Seconds(30);
  // Only alerts about days at most this many days before today run the hook.
  int hook_max_age_days = 2;
  // Clock; tests inject one.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class AlertMonitor {
 public:
  // Create validates the options (INVALID_ARGUMENT naming the option) and registers the metrics in
  // `metrics`, which must outlive the monitor.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AlertMonitor>> Create(
      AlertMonitorOptions options, RatesFn rates, MetricsRegistry* metrics);

  // The destructor calls Shutdown().
  ~AlertMonitor();
  AlertMonitor(const AlertMonitor&) = delete;
  AlertMonitor& operator=(const AlertMonitor&) = delete;

  // Start launches the background thread: a pass at once, then one per interval. Idempotent.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);

  // EvaluateOnce runs one pass now (the first covers history_days) and returns its error, if any.
  // Passes are serialized.
  absl::Status EvaluateOnce() ABSL_LOCKS_EXCLUDED(pass_mu_, mu_);

  // List returns the alerts matching `request` (inclusive "YYYY-MM-DD" day range, organization;
  // empty fields match everything), ordered by day, then organization. INVALID_ARGUMENT for a
  // malformed day.
  [[nodiscard]] absl::StatusOr<v1::AlertsResponse> List(const v1::AlertsRequest& request) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Shutdown stops the background thread (waiting for a running pass or hook). Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  const AlertMonitorOptions& options() const { return options_; }

 private:
  AlertMonitor(AlertMonitorOptions options, RatesFn rates, MetricsRegistry* metrics);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // RunHook runs the pager hook for `alert` and returns the result label.
  std::string RunHook(const v1::Alert& alert) const;

  const AlertMonitorOptions options_;
  const RatesFn rates_;
  LabeledCounter* const raised_;
  Gauge* const active_;
  LabeledCounter* const evaluations_;
  LabeledCounter* const hook_runs_;

  absl::Mutex pass_mu_;  // serializes passes
  bool first_pass_done_ ABSL_GUARDED_BY(pass_mu_) = false;

  mutable absl::Mutex mu_;
  // (day, organization) -> alert.
  std::map<std::pair<std::string, std::string>, v1::Alert> alerts_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_ALERTS_ALERT_MONITOR_H_
