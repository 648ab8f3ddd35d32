#include "aggregator/ingest/validator.h"

namespace pinning::aggregator {

// TODO: implementation in progress.
absl::Status DayWindow::Validate() const { return absl::OkStatus(); }

absl::StatusOr<std::unique_ptr<Validator>> Validator::Create(ValidatorOptions options,
                                                             const VersionLookup* lookup,
                                                             MetricsRegistry* metrics) {
  return std::unique_ptr<Validator>(new Validator(std::move(options), lookup, metrics));
}

Validator::Validator(ValidatorOptions options, const VersionLookup* lookup,
                     MetricsRegistry* metrics)
    : options_(std::move(options)),
      lookup_(lookup),
      rejected_(metrics->AddLabeledCounter("pinning_ingest_rejected_total", "Pings refused.",
                                           "reason")) {}

absl::StatusOr<ValidPingInfo> Validator::Validate(const v1::Ping& ping) const { return Check(ping); }
absl::StatusOr<ValidPingInfo> Validator::Check(const v1::Ping&) const {
  return absl::UnimplementedError("");
}

}  // namespace pinning::aggregator
