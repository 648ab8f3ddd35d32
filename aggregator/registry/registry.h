// registry.h: the published randomization parameters and pin catalogs, with the epsilon ceiling
// and the audit trail.
//
// The registry is the aggregator's source of truth for which params and catalog versions exist.
// It persists every change through the CountStore (params versions, catalogs, events, audit) and
// keeps an in-memory copy that the ingest validator reads on every ping (VersionLookup).
//
//   RegistryOptions options;
//   options.max_epsilon_one = 4.0;
//   options.max_epsilon_inf = 8.0;
//   ASSIGN_OR_RETURN(std::unique_ptr<Registry> registry, Registry::Load(store, options));
//   ASSIGN_OR_RETURN(std::string catalog_version,
//                    registry->PublishCatalog(catalog, "initial list", "alice"));
//   ASSIGN_OR_RETURN(v1::ParamsVersion published,
//                    registry->PublishParams(params, catalog_version, "launch", "alice"));
//
// Versions: params versions are numbered 1, 2, ... in publication order and are immutable; the
// current one is the newest, and it names the catalog clients must use ("the current catalog").
// Every published params version stays acceptable for pings, so clients that have not fetched the
// newest one yet are still counted. Before any params are published, the current catalog is the
// newest published catalog.
//
// Epsilon ceiling: PublishParams refuses (FAILED_PRECONDITION) parameters whose whole-ping
// epsilon for one ping (eps1) or for unlimited pings of the same truth (eps_inf, DESIGN §4)
// exceeds the configured ceilings; the message gives the epsilon and the ceiling.
//
// Audit: each publication and each rollout event adds an AuditRecord with the time, the actor (the
// token name), the action, and the old and new values as JSON (for params: including both
// epsilons).
//
// Several replicas on one shared store: version numbers are claimed in the store (PutParamsVersion
// refuses a taken number with ALREADY_EXISTS), so PublishParams reloads and retries with the next
// number when another replica got there first. Refresh() picks up what other replicas published;
// the server calls it periodically, and sooner after a ping named a version this replica did not
// know (NeedsRefresh()).
//
// Thread safety: all methods are thread-safe. Publications are serialized; reads (including the
// VersionLookup methods used on the ingest hot path) take a shared lock and never touch storage.
#ifndef AGGREGATOR_REGISTRY_REGISTRY_H_
#define AGGREGATOR_REGISTRY_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/ingest/version_lookup.h"
#include "aggregator/storage/count_store.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

struct RegistryOptions {
  // Ceilings on the whole-ping epsilons of any published parameters (DESIGN §4). Must be > 0;
  // +infinity disables a ceiling.
  double max_epsilon_one = 4.0;
  double max_epsilon_inf = 8.0;
  // Computes a catalog's content version (lower-case hex SHA-256 of its canonical form).
  // Defaults to CatalogVersion() from aggregator/registry/catalog_version.h.
  std::function<std::string(const v1::Catalog&)> catalog_version;
  // Clock for published_at and audit times; tests inject one.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class Registry final : public VersionLookup {
 public:
  // Load reads every stored params version and catalog from `store` (which must outlive the
  // registry). INVALID_ARGUMENT for bad options; UNAVAILABLE when the store fails.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Registry>> Load(CountStore* store,
                                                                      RegistryOptions options);

  // ---- VersionLookup (ingest hot path) ----
  std::optional<ParamsInfo> Params(uint32_t version) const override ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<uint32_t> CatalogSize(absl::string_view catalog_version) const override
      ABSL_LOCKS_EXCLUDED(mu_);

  // ---- Reads ----
  // CurrentParams returns the newest params version; NOT_FOUND before the first publication.
  [[nodiscard]] absl::StatusOr<v1::ParamsVersion> CurrentParams() const ABSL_LOCKS_EXCLUDED(mu_);
  // ListParams returns every params version, oldest first.
  std::vector<v1::ParamsVersion> ListParams() const ABSL_LOCKS_EXCLUDED(mu_);
  // CurrentCatalogVersion returns the current catalog version (see the file comment); "" when
  // none is published.
  std::string CurrentCatalogVersion() const ABSL_LOCKS_EXCLUDED(mu_);
  // GetCatalog returns the catalog of `version` ("" = current); NOT_FOUND when unknown.
  [[nodiscard]] absl::StatusOr<v1::Catalog> GetCatalog(absl::string_view version) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // ForClient answers Params.Get: the current params and, unless the client already has it, the
  // catalog they refer to. FAILED_PRECONDITION before the first params publication.
  [[nodiscard]] absl::StatusOr<v1::GetParamsResponse> ForClient(
      absl::string_view known_catalog_version) const ABSL_LOCKS_EXCLUDED(mu_);

  // ---- Changes ----
  // Evaluate validates `params` for `catalog_version` ("" = current) and returns the version that
  // would be published (number 0) with both whole-ping epsilons, without publishing or checking
  // the ceilings. INVALID_ARGUMENT for out-of-range values (p >= q, s > K, ...), FAILED_PRECONDITION
  // for an unknown catalog.
  [[nodiscard]] absl::StatusOr<v1::ParamsVersion> Evaluate(
      const v1::RandomizationParams& params, absl::string_view catalog_version) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // CheckCeilings returns FAILED_PRECONDITION when an epsilon of `evaluated` exceeds its ceiling.
  [[nodiscard]] absl::Status CheckCeilings(const v1::ParamsVersion& evaluated) const;
  // PublishParams evaluates, checks the ceilings, stores the next version with an audit record and
  // makes it current.
  [[nodiscard]] absl::StatusOr<v1::ParamsVersion> PublishParams(
      const v1::RandomizationParams& params, absl::string_view catalog_version,
      absl::string_view note, absl::string_view actor) ABSL_LOCKS_EXCLUDED(mu_, publish_mu_);
  // PublishInitialParams publishes `params` as version 1 unless some version exists (in this
  // registry or, after a refresh, in the shared store); then it publishes nothing and returns the
  // current version. Replicas starting together with the same initial parameters thus agree on
  // one version 1.
  [[nodiscard]] absl::StatusOr<v1::ParamsVersion> PublishInitialParams(
      const v1::RandomizationParams& params, absl::string_view note, absl::string_view actor)
      ABSL_LOCKS_EXCLUDED(mu_, publish_mu_);
  // PublishCatalog recomputes the catalog's version (INVALID_ARGUMENT when a non-empty `version`
  // field differs), checks that browsers will accept it (ValidateCatalogForClients: indices
  // 0..K-1 in order, names, organizations, modes, SPKI hashes, normalized hosts; INVALID_ARGUMENT
  // naming the problem), stores it with an audit record and returns the version. Publishing a
  // catalog that is already stored is a no-op returning its version.
  [[nodiscard]] absl::StatusOr<std::string> PublishCatalog(v1::Catalog catalog,
                                                           absl::string_view note,
                                                           absl::string_view actor)
      ABSL_LOCKS_EXCLUDED(mu_, publish_mu_);
  // Refresh loads params versions and catalogs published (by other replicas) since the last
  // load. UNAVAILABLE when the store fails; DATA_LOSS when stored versions are not 1..n.
  [[nodiscard]] absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_, publish_mu_);
  // NeedsRefresh returns (and clears) whether a lookup missed a params version newer than the
  // newest known one since the last call.
  bool NeedsRefresh() { return missed_lookup_.exchange(false, std::memory_order_relaxed); }

  // RecordEvent stores a rollout event (day required, "YYYY-MM-DD"; kind required) with the actor
  // and time, adds an audit record, and returns the stored event.
  [[nodiscard]] absl::StatusOr<v1::RolloutEvent> RecordEvent(v1::RolloutEvent event,
                                                             absl::string_view actor)
      ABSL_LOCKS_EXCLUDED(publish_mu_);

 private:
  Registry(CountStore* store, RegistryOptions options);
  // AddAudit stores an audit record.
  absl::Status AddAudit(absl::string_view actor, absl::string_view action, std::string old_value,
                        std::string new_value);
  std::string CurrentCatalogVersionLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::ParamsVersion> PublishParamsLocked(const v1::RandomizationParams& params,
                                                        absl::string_view catalog_version,
                                                        absl::string_view note,
                                                        absl::string_view actor, bool only_if_none)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RefreshLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::ParamsVersion> EvaluateLocked(const v1::RandomizationParams& params,
                                                   absl::string_view catalog_version) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  CountStore* const store_;
  const RegistryOptions options_;

  // Serializes publications (store writes happen outside mu_ so readers never wait on I/O).
  absl::Mutex publish_mu_;
  mutable absl::Mutex mu_;
  std::vector<v1::ParamsVersion> params_ ABSL_GUARDED_BY(mu_);  // index = version - 1
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Catalog>> catalogs_
      ABSL_GUARDED_BY(mu_);
  std::string newest_catalog_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<bool> missed_lookup_{false};
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_REGISTRY_REGISTRY_H_
