#include "aggregator/ingest/version_lookup.h"

namespace pinning::aggregator {

void FixedVersionLookup::AddParams(ParamsInfo info) {
  absl::MutexLock lock(&mu_);
  params_[info.version] = std::move(info);
}

void FixedVersionLookup::RemoveParams(uint32_t version) {
  absl::MutexLock lock(&mu_);
  params_.erase(version);
}

void FixedVersionLookup::AddCatalog(std::string version, uint32_t num_pinsets) {
  absl::MutexLock lock(&mu_);
  catalogs_[std::move(version)] = num_pinsets;
}

std::optional<ParamsInfo> FixedVersionLookup::Params(uint32_t version) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = params_.find(version);
  if (it == params_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> FixedVersionLookup::CatalogSize(absl::string_view catalog_version) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = catalogs_.find(catalog_version);
  if (it == catalogs_.end()) return std::nullopt;
  return it->second;
}

}  // namespace pinning::aggregator
