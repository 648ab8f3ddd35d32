#include "aggregator/registry/registry.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/registry/catalog_version.h"
#include "aggregator/registry/whole_ping_epsilon.h"
#include "aggregator/storage/day.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "privacy/json_writer.h"

namespace pinning::aggregator {
namespace {

using ::privacy::JsonQuote;

// Default bits per reported pinset (checked, violated) when a request leaves it 0.
constexpr uint32_t kDefaultBitsPerPinset = 2;

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

std::string FormatEpsilon(double e) {
  return std::isinf(e) ? std::string("inf") : absl::StrFormat("%.4f", e);
}

}  // namespace

Registry::Registry(CountStore* store, RegistryOptions options)
    : store_(store), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Registry>> Registry::Load(CountStore* store,
                                                         RegistryOptions options) {
  if (!(options.max_epsilon_one > 0) || !(options.max_epsilon_inf > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "epsilon ceilings must be > 0, got max_epsilon_one=", options.max_epsilon_one,
        " max_epsilon_inf=", options.max_epsilon_inf));
  }
  if (!options.catalog_version) options.catalog_version = CatalogVersion;
  if (!options.now) options.now = [] { return absl::Now(); };
  std::unique_ptr<Registry> registry(new Registry(store, std::move(options)));

  {
    absl::MutexLock publish_lock(&registry->publish_mu_);
    if (absl::Status s = registry->RefreshLocked(); !s.ok()) return s;
  }
  return registry;
}

absl::Status Registry::Refresh() {
  absl::MutexLock publish_lock(&publish_mu_);
  return RefreshLocked();
}

absl::Status Registry::RefreshLocked() {
  // Catalogs first: a params version never refers to a catalog the registry does not hold.
  absl::StatusOr<std::vector<std::string>> catalog_versions = store_->ListCatalogVersions();
  if (!catalog_versions.ok()) return catalog_versions.status();
  std::vector<std::pair<std::string, std::shared_ptr<const v1::Catalog>>> new_catalogs;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const std::string& version : *catalog_versions) {
      if (!catalogs_.contains(version)) new_catalogs.emplace_back(version, nullptr);
    }
  }
  for (auto& [version, catalog] : new_catalogs) {
    absl::StatusOr<v1::Catalog> loaded = store_->GetCatalog(version);
    if (!loaded.ok()) return loaded.status();
    catalog = std::make_shared<const v1::Catalog>(*std::move(loaded));
  }
  absl::StatusOr<std::vector<v1::ParamsVersion>> params = store_->ListParamsVersions();
  if (!params.ok()) return params.status();
  for (size_t i = 0; i < params->size(); ++i) {
    if ((*params)[i].version() != i + 1) {
      return absl::DataLossError(absl::StrCat("stored params versions are not 1..n: found ",
                                              (*params)[i].version(), " at position ", i + 1));
    }
  }
  absl::MutexLock lock(&mu_);
  for (auto& [version, catalog] : new_catalogs) catalogs_[version] = std::move(catalog);
  if (!catalog_versions->empty()) newest_catalog_ = catalog_versions->back();
  for (size_t i = params_.size(); i < params->size(); ++i) params_.push_back((*params)[i]);
  return absl::OkStatus();
}

std::optional<ParamsInfo> Registry::Params(uint32_t version) const {
  absl::ReaderMutexLock lock(&mu_);
  if (version > params_.size()) missed_lookup_.store(true, std::memory_order_relaxed);
  if (version == 0 || version > params_.size()) return std::nullopt;
  const v1::ParamsVersion& p = params_[version - 1];
  ParamsInfo info;
  info.version = version;
  info.catalog_version = p.catalog_version();
  info.pinsets_per_ping = p.params().pinsets_per_ping();
  info.bits_per_pinset = p.params().bits_per_pinset();
  return info;
}

std::optional<uint32_t> Registry::CatalogSize(absl::string_view catalog_version) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = catalogs_.find(catalog_version);
  if (it == catalogs_.end()) {
    missed_lookup_.store(true, std::memory_order_relaxed);
    return std::nullopt;
  }
  return static_cast<uint32_t>(it->second->pinsets_size());
}

absl::StatusOr<v1::ParamsVersion> Registry::CurrentParams() const {
  absl::ReaderMutexLock lock(&mu_);
  if (params_.empty()) return absl::NotFoundError("no parameters have been published");
  return params_.back();
}

std::vector<v1::ParamsVersion> Registry::ListParams() const {
  absl::ReaderMutexLock lock(&mu_);
  return params_;
}

std::string Registry::CurrentCatalogVersionLocked() const {
  if (!params_.empty()) return params_.back().catalog_version();
  return newest_catalog_;
}

std::string Registry::CurrentCatalogVersion() const {
  absl::ReaderMutexLock lock(&mu_);
  return CurrentCatalogVersionLocked();
}

absl::StatusOr<v1::Catalog> Registry::GetCatalog(absl::string_view version) const {
  absl::ReaderMutexLock lock(&mu_);
  const std::string wanted = version.empty() ? CurrentCatalogVersionLocked() : std::string(version);
  auto it = catalogs_.find(wanted);
  if (it == catalogs_.end()) {
    if (wanted.empty()) return absl::NotFoundError("no catalog has been published");
    return absl::NotFoundError(absl::StrCat("unknown catalog version '", wanted, "'"));
  }
  return *it->second;
}

absl::StatusOr<v1::GetParamsResponse> Registry::ForClient(
    absl::string_view known_catalog_version) const {
  absl::ReaderMutexLock lock(&mu_);
  if (params_.empty()) {
    return absl::FailedPreconditionError("no parameters have been published yet");
  }
  v1::GetParamsResponse response;
  *response.mutable_current() = params_.back();
  const std::string& catalog_version = params_.back().catalog_version();
  if (known_catalog_version != catalog_version) {
    auto it = catalogs_.find(catalog_version);
    if (it == catalogs_.end()) {
      return absl::InternalError(absl::StrCat("catalog ", catalog_version, " is missing"));
    }
    *response.mutable_catalog() = *it->second;
  }
  return response;
}

absl::StatusOr<v1::ParamsVersion> Registry::EvaluateLocked(const v1::RandomizationParams& params,
                                                           absl::string_view catalog_version) const {
  const std::string version =
      catalog_version.empty() ? CurrentCatalogVersionLocked() : std::string(catalog_version);
  auto it = catalogs_.find(version);
  if (it == catalogs_.end()) {
    if (version.empty()) {
      return absl::FailedPreconditionError("no catalog has been published; publish one first");
    }
    return absl::FailedPreconditionError(absl::StrCat("unknown catalog version '", version, "'"));
  }
  const uint32_t num_pinsets = static_cast<uint32_t>(it->second->pinsets_size());

  v1::RandomizationParams normalized = params;
  if (normalized.pinsets_per_ping() == 0) normalized.set_pinsets_per_ping(num_pinsets);
  if (normalized.bits_per_pinset() == 0) normalized.set_bits_per_pinset(kDefaultBitsPerPinset);
  if (normalized.pinsets_per_ping() > num_pinsets) {
    return absl::InvalidArgumentError(absl::StrCat("pinsets_per_ping ",
                                                   normalized.pinsets_per_ping(),
                                                   " exceeds the catalog's K = ", num_pinsets));
  }
  if (normalized.bits_per_pinset() > static_cast<uint32_t>(kMaxBitsPerPinset)) {
    return absl::InvalidArgumentError(absl::StrCat("bits_per_pinset ",
                                                   normalized.bits_per_pinset(),
                                                   " exceeds the supported maximum ",
                                                   kMaxBitsPerPinset));
  }
  absl::StatusOr<WholePingEpsilon> epsilon = ComputeWholePingEpsilon(normalized, num_pinsets);
  if (!epsilon.ok()) return epsilon.status();

  v1::ParamsVersion evaluated;
  *evaluated.mutable_params() = normalized;
  evaluated.set_catalog_version(version);
  evaluated.set_epsilon_one(epsilon->one);
  evaluated.set_epsilon_inf(epsilon->inf);
  return evaluated;
}

absl::StatusOr<v1::ParamsVersion> Registry::Evaluate(const v1::RandomizationParams& params,
                                                     absl::string_view catalog_version) const {
  absl::ReaderMutexLock lock(&mu_);
  return EvaluateLocked(params, catalog_version);
}

absl::Status Registry::CheckCeilings(const v1::ParamsVersion& evaluated) const {
  // `!(x <= ceiling)` also refuses NaN.
  if (!(evaluated.epsilon_one() <= options_.max_epsilon_one)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "whole-ping epsilon_one ", FormatEpsilon(evaluated.epsilon_one()),
        " exceeds the configured ceiling ", FormatEpsilon(options_.max_epsilon_one),
        " (epsilon_inf ", FormatEpsilon(evaluated.epsilon_inf()), ", ceiling ",
        FormatEpsilon(options_.max_epsilon_inf), ")"));
  }
  if (!(evaluated.epsilon_inf() <= options_.max_epsilon_inf)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "whole-ping epsilon_inf ", FormatEpsilon(evaluated.epsilon_inf()),
        " exceeds the configured ceiling ", FormatEpsilon(options_.max_epsilon_inf),
        " (epsilon_one ", FormatEpsilon(evaluated.epsilon_one()), ", ceiling ",
        FormatEpsilon(options_.max_epsilon_one), ")"));
  }
  return absl::OkStatus();
}

absl::Status Registry::AddAudit(absl::string_view actor, absl::string_view action,
                                std::string old_value, std::string new_value) {
  v1::AuditRecord record;
  *record.mutable_at() = ToTimestamp(options_.now());
  record.set_actor(std::string(actor));
  record.set_action(std::string(action));
  record.set_old_value(std::move(old_value));
  record.set_new_value(std::move(new_value));
  return store_->AddAudit(record).status();
}

absl::StatusOr<v1::ParamsVersion> Registry::PublishParams(const v1::RandomizationParams& params,
                                                          absl::string_view catalog_version,
                                                          absl::string_view note,
                                                          absl::string_view actor) {
  absl::MutexLock publish_lock(&publish_mu_);
  return PublishParamsLocked(params, catalog_version, note, actor, /*only_if_none=*/false);
}

absl::StatusOr<v1::ParamsVersion> Registry::PublishInitialParams(
    const v1::RandomizationParams& params, absl::string_view note, absl::string_view actor) {
  absl::MutexLock publish_lock(&publish_mu_);
  if (absl::Status s = RefreshLocked(); !s.ok()) return s;
  return PublishParamsLocked(params, "", note, actor, /*only_if_none=*/true);
}

absl::StatusOr<v1::ParamsVersion> Registry::PublishParamsLocked(
    const v1::RandomizationParams& params, absl::string_view catalog_version,
    absl::string_view note, absl::string_view actor, bool only_if_none) {
  // Another replica sharing the store may take the next number first; then reload and retry
  // (or, for initial parameters, accept what it published).
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    v1::ParamsVersion published;
    std::string old_value = "null";
    {
      absl::ReaderMutexLock lock(&mu_);
      if (only_if_none && !params_.empty()) return params_.back();
      absl::StatusOr<v1::ParamsVersion> evaluated = EvaluateLocked(params, catalog_version);
      if (!evaluated.ok()) return evaluated.status();
      published = *std::move(evaluated);
      published.set_version(static_cast<uint32_t>(params_.size() + 1));
      if (!params_.empty()) old_value = ToJson(params_.back());
    }
    if (absl::Status s = CheckCeilings(published); !s.ok()) return s;
    *published.mutable_published_at() = ToTimestamp(options_.now());
    published.set_published_by(std::string(actor));
    published.set_note(std::string(note));

    // Persist before making it visible: a version pings may use is always stored.
    absl::Status put = store_->PutParamsVersion(published);
    if (put.code() == absl::StatusCode::kAlreadyExists && attempt < kAttempts) {
      if (absl::Status s = RefreshLocked(); !s.ok()) return s;
      continue;
    }
    if (!put.ok()) return put;
    if (absl::Status s =
            AddAudit(actor, "publish_params", std::move(old_value), ToJson(published));
        !s.ok()) {
      return s;
    }
    absl::MutexLock lock(&mu_);
    params_.push_back(published);
    return published;
  }
}

absl::StatusOr<std::string> Registry::PublishCatalog(v1::Catalog catalog, absl::string_view note,
                                                     absl::string_view actor) {
  if (catalog.pinsets_size() == 0) return absl::InvalidArgumentError("catalog has no pinsets");
  const std::string version = options_.catalog_version(catalog);
  if (!catalog.version().empty() && catalog.version() != version) {
    return absl::InvalidArgumentError(absl::StrCat("catalog version field '", catalog.version(),
                                                   "' does not match its content hash ", version));
  }
  catalog.set_version(version);
  // Publish only what browsers will accept.
  if (absl::Status s = ValidateCatalogForClients(catalog); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("catalog refused: ", s.message()));
  }

  absl::MutexLock publish_lock(&publish_mu_);
  std::string old_version;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (catalogs_.contains(version)) return version;
    old_version = newest_catalog_;
  }
  if (absl::Status s = store_->PutCatalog(catalog); !s.ok()) return s;
  const std::string old_value =
      old_version.empty() ? "null" : absl::StrCat(R"({"version":)", JsonQuote(old_version), "}");
  const std::string new_value = absl::StrCat(R"({"note":)", JsonQuote(note), R"(,"catalog":)",
                                             ToJson(catalog), "}");
  if (absl::Status s = AddAudit(actor, "publish_catalog", old_value, new_value); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  catalogs_[version] = std::make_shared<const v1::Catalog>(std::move(catalog));
  newest_catalog_ = version;
  return version;
}

absl::StatusOr<v1::RolloutEvent> Registry::RecordEvent(v1::RolloutEvent event,
                                                       absl::string_view actor) {
  if (absl::StatusOr<DayNumber> day = ParseDay(event.day()); !day.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("event day: ", day.status().message()));
  }
  if (event.kind() == v1::EVENT_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("event kind is required");
  }
  event.clear_id();
  *event.mutable_recorded_at() = ToTimestamp(options_.now());
  event.set_recorded_by(std::string(actor));
  absl::MutexLock publish_lock(&publish_mu_);
  absl::StatusOr<v1::RolloutEvent> stored = store_->AddEvent(event);
  if (!stored.ok()) return stored.status();
  if (absl::Status s = AddAudit(actor, "record_event", "null", ToJson(*stored)); !s.ok()) return s;
  return stored;
}

}  // namespace pinning::aggregator
