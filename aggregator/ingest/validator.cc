#include "aggregator/ingest/validator.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "aggregator/ingest/rejection.h"
#include "aggregator/storage/count_store.h"

namespace pinning::aggregator {
namespace {

absl::Status Malformed(absl::string_view reason, absl::string_view message) {
  return MakeRejection(absl::StatusCode::kInvalidArgument, reason, message);
}
absl::Status NotAcceptable(absl::string_view reason, absl::string_view message) {
  return MakeRejection(absl::StatusCode::kFailedPrecondition, reason, message);
}

// Shortens client-supplied text before it is quoted in a message.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 40;
  std::string shown = absl::CHexEscape(text.substr(0, kMax));
  if (text.size() > kMax) absl::StrAppend(&shown, "...");
  return absl::StrCat("'", shown, "'");
}

}  // namespace

absl::Status DayWindow::Validate() const {
  if (max_future_days < 0 || max_age_days < 0 || retention_days < 0) {
    return absl::InvalidArgumentError("day window values must be non-negative");
  }
  if (retention_days <= max_age_days) {
    return absl::InvalidArgumentError(absl::StrCat(
        "retention_days (", retention_days, ") must exceed max_age_days (", max_age_days,
        "): a ping id must be remembered for as long as its ping can be accepted"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Validator>> Validator::Create(ValidatorOptions options,
                                                             const VersionLookup* lookup,
                                                             MetricsRegistry* metrics) {
  if (lookup == nullptr || metrics == nullptr) {
    return absl::InvalidArgumentError("Validator needs a version lookup and a metrics registry");
  }
  if (absl::Status s = options.window.Validate(); !s.ok()) return s;
  if (options.min_major_version > options.max_major_version) {
    return absl::InvalidArgumentError("min_major_version exceeds max_major_version");
  }
  if (options.max_ping_bytes == 0) return absl::InvalidArgumentError("max_ping_bytes is 0");
  for (const auto* list : {&options.products, &options.channels}) {
    for (const std::string& v : *list) {
      if (v.empty()) return absl::InvalidArgumentError("vocabularies must not list \"\"");
      // Values end up in CSV exports and metric labels: keep them plain.
      if (v.find_first_of(",\"\r\n\\") != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("vocabulary value ", Quote(v), " contains a reserved character"));
      }
    }
  }
  if (!options.now) return absl::InvalidArgumentError("Validator needs a clock");
  return std::unique_ptr<Validator>(new Validator(std::move(options), lookup, metrics));
}

Validator::Validator(ValidatorOptions options, const VersionLookup* lookup,
                     MetricsRegistry* metrics)
    : options_(std::move(options)),
      lookup_(lookup),
      rejected_(metrics->AddLabeledCounter("pinning_ingest_rejected_total",
                                           "Pings refused, by reason.", "reason")),
      products_(options_.products.begin(), options_.products.end()),
      channels_(options_.channels.begin(), options_.channels.end()) {}

absl::StatusOr<ValidPingInfo> Validator::Validate(const v1::Ping& ping) const {
  absl::StatusOr<ValidPingInfo> result = Check(ping);
  if (!result.ok()) rejected_->Increment(RejectionReason(result.status()));
  return result;
}

absl::StatusOr<ValidPingInfo> Validator::Check(const v1::Ping& ping) const {
  const size_t size = ping.ByteSizeLong();
  if (size > options_.max_ping_bytes) {
    return Malformed("ping_too_large",
                     absl::StrCat("ping is ", size, " bytes, limit ", options_.max_ping_bytes));
  }
  if (ping.ping_id().size() != kPingIdBytes) {
    return Malformed("bad_ping_id", absl::StrCat("ping_id must be ", kPingIdBytes, " bytes, got ",
                                                 ping.ping_id().size()));
  }

  // Day format and window.
  absl::StatusOr<DayNumber> day = ParseDay(ping.day());
  if (!day.ok()) {
    return Malformed("bad_day_format",
                     absl::StrCat("day ", Quote(ping.day()), " is not a YYYY-MM-DD date"));
  }
  const DayNumber today = DayFromTime(options_.now());
  if (*day > today + options_.window.max_future_days) {
    return NotAcceptable("day_in_future",
                         absl::StrCat("day ", ping.day(), " is after ",
                                      FormatDay(today + options_.window.max_future_days)));
  }
  if (*day < today - options_.window.max_age_days) {
    return NotAcceptable(
        "day_too_old",
        absl::StrCat("day ", ping.day(), " is before ",
                     FormatDay(today - options_.window.max_age_days), " (accepted: the last ",
                     options_.window.max_age_days, " days)"));
  }

  // Versions.
  if (ping.params_version() == 0) {
    return Malformed("missing_params_version", "params_version is not set");
  }
  if (ping.catalog_version().empty()) {
    return Malformed("missing_catalog_version", "catalog_version is not set");
  }
  std::optional<ParamsInfo> params = lookup_->Params(ping.params_version());
  if (!params.has_value()) {
    return NotAcceptable(
        "unknown_params_version",
        absl::StrCat("params_version ", ping.params_version(), " is unknown or retired"));
  }
  std::optional<uint32_t> num_pinsets = lookup_->CatalogSize(ping.catalog_version());
  if (!num_pinsets.has_value()) {
    return NotAcceptable(
        "unknown_catalog_version",
        absl::StrCat("catalog_version ", Quote(ping.catalog_version()), " is unknown"));
  }
  if (params->catalog_version != ping.catalog_version()) {
    return Malformed(
        "params_catalog_mismatch",
        absl::StrCat("params_version ", ping.params_version(), " applies to catalog ",
                     Quote(params->catalog_version), ", not ", Quote(ping.catalog_version())));
  }
  const uint32_t k = *num_pinsets;
  const uint32_t s = params->pinsets_per_ping;
  const uint32_t bpp = params->bits_per_pinset;
  if (k == 0 || s == 0 || bpp == 0 || bpp > static_cast<uint32_t>(kMaxBitsPerPinset)) {
    return NotAcceptable(
        "unsupported_params",
        absl::StrCat("params_version ", ping.params_version(), " has K=", k, ", s=", s,
                     ", bits_per_pinset=", bpp, "; this aggregator counts K>=1, s>=1 and 1..",
                     kMaxBitsPerPinset, " bits per pinset"));
  }

  // Reported pinsets: all K when s >= K, else exactly s strictly ascending indices < K.
  const auto& indices = ping.pinset_indices();
  if (s >= k) {
    if (!indices.empty()) {
      return Malformed("unexpected_pinset_indices",
                       absl::StrCat("params_version ", ping.params_version(),
                                    " reports all pinsets, so pinset_indices must be empty; got ",
                                    indices.size()));
    }
  } else {
    if (static_cast<uint32_t>(indices.size()) != s) {
      return Malformed("bad_pinset_count", absl::StrCat("pinset_indices must list exactly ", s,
                                                        " pinsets, got ", indices.size()));
    }
    for (int i = 0; i < indices.size(); ++i) {
      if (indices[i] >= k) {
        return Malformed(
            "pinset_index_out_of_range",
            absl::StrCat("pinset_indices[", i, "] = ", indices[i], " is not below K = ", k));
      }
      if (i > 0 && indices[i] <= indices[i - 1]) {
        return Malformed("pinset_indices_not_ascending",
                         absl::StrCat("pinset_indices must be strictly ascending; [", i - 1,
                                      "] = ", indices[i - 1], ", [", i, "] = ", indices[i]));
      }
    }
  }

  // Bits: ceil(m / 8) bytes with m = reported * bits_per_pinset, unused high bits zero.
  const uint64_t m = static_cast<uint64_t>(s >= k ? k : s) * bpp;
  const uint64_t want_bytes = (m + 7) / 8;
  if (ping.bits().size() != want_bytes) {
    return Malformed("bad_bits_length", absl::StrCat("bits must be ", want_bytes, " bytes for ", m,
                                                     " reported bits, got ", ping.bits().size()));
  }
  if (m % 8 != 0) {
    const uint8_t last = static_cast<uint8_t>(ping.bits().back());
    if ((last >> (m % 8)) != 0) {
      return Malformed("nonzero_bits_padding", absl::StrCat("the ", 8 - m % 8,
                                                            " unused high bits of the last byte of "
                                                            "bits must be zero"));
    }
  }

  // Dimensions: empty means unknown and is always accepted.
  const v1::Dimensions& dims = ping.dimensions();
  if (!dims.product().empty() && !products_.contains(dims.product())) {
    return Malformed("unknown_product", absl::StrCat("dimensions.product ", Quote(dims.product()),
                                                     " is not in the configured vocabulary"));
  }
  if (!dims.channel().empty() && !channels_.contains(dims.channel())) {
    return Malformed("unknown_channel", absl::StrCat("dimensions.channel ", Quote(dims.channel()),
                                                     " is not in the configured vocabulary"));
  }
  if (dims.major_version() != 0 && (dims.major_version() < options_.min_major_version ||
                                    dims.major_version() > options_.max_major_version)) {
    return Malformed("bad_major_version",
                     absl::StrCat("dimensions.major_version ", dims.major_version(), " is outside ",
                                  options_.min_major_version, "..", options_.max_major_version));
  }
  return ValidPingInfo{*day, k, bpp};
}

}  // namespace pinning::aggregator
