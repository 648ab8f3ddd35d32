// version_lookup.h: what the validator needs to know about published versions.
//
// The registry (aggregator/registry/) implements VersionLookup over the published parameters and
// catalogs; tests use FixedVersionLookup.
//
//   FixedVersionLookup lookup;
//   lookup.AddCatalog("ab12...", /*num_pinsets=*/40);
//   lookup.AddParams({.version = 3, .catalog_version = "ab12...", .pinsets_per_ping = 40,
//                     .bits_per_pinset = 2});
//   Validator validator(options, &lookup, &metrics);
//
// Thread safety: implementations must be safe for concurrent calls; they run on the ingest hot
// path, so they should not block on I/O.
#ifndef AGGREGATOR_INGEST_VERSION_LOOKUP_H_
#define AGGREGATOR_INGEST_VERSION_LOOKUP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace pinning::aggregator {

// ParamsInfo is the part of a published ParamsVersion that validation needs.
struct ParamsInfo {
  uint32_t version = 0;
  // The catalog version the parameters apply to; pings must name the same one.
  std::string catalog_version;
  // s: pinsets reported per ping (1 <= s); s >= K means all K pinsets.
  uint32_t pinsets_per_ping = 0;
  uint32_t bits_per_pinset = 0;
};

// VersionLookup answers which params and catalog versions pings may use.
class VersionLookup {
 public:
  virtual ~VersionLookup() = default;
  // Params returns the info of params `version` when pings may use it; nullopt when the version
  // is unknown or retired.
  virtual std::optional<ParamsInfo> Params(uint32_t version) const = 0;
  // CatalogSize returns K (the number of pinsets) of a known catalog version, else nullopt.
  virtual std::optional<uint32_t> CatalogSize(absl::string_view catalog_version) const = 0;
};

// FixedVersionLookup is a simple in-memory VersionLookup (tests, tools). Thread-safe.
class FixedVersionLookup final : public VersionLookup {
 public:
  FixedVersionLookup() = default;
  void AddParams(ParamsInfo info) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveParams(uint32_t version) ABSL_LOCKS_EXCLUDED(mu_);
  void AddCatalog(std::string version, uint32_t num_pinsets) ABSL_LOCKS_EXCLUDED(mu_);

  std::optional<ParamsInfo> Params(uint32_t version) const override ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<uint32_t> CatalogSize(absl::string_view catalog_version) const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, ParamsInfo> params_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> catalogs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_INGEST_VERSION_LOOKUP_H_
