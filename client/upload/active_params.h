// active_params.h: the parameters and catalog a client encodes with, validated on receipt.
//
// Params.Get returns a ParamsVersion (f, p, q, s, bits, the catalog version they apply to, and the
// server's epsilons) and, when the client does not have it yet, the catalog. A client trusts none
// of it blindly: MakeActiveParams rebuilds the parameters through privacy::ParamsBuilder, checks
// them against the catalog size, checks that the catalog is well formed and that its content hash
// is the version the parameters name (client/catalog.h), and recomputes both whole-ping epsilons
// locally (privacy/params.h). The local epsilons are what the privacy ledger charges.
//
// ActiveParams also carries the PinChecker for its catalog (the catalog itself is the checker's
// copy). It is immutable and shared (std::shared_ptr<const ActiveParams>): every profile of a
// process that uses the same version points at one copy, and versions with the same catalog share
// one checker, interned by ParamsCache.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const ActiveParams> active,
//                    MakeActiveParams(response.current(), catalog));
//   privacy::EncoderConfig config = active->EncoderConfig();
//
// Thread safety: ActiveParams is immutable; ParamsCache is thread-safe.
#ifndef CLIENT_UPLOAD_ACTIVE_PARAMS_H_
#define CLIENT_UPLOAD_ACTIVE_PARAMS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "client/pin_checker.h"
#include "privacy/encoder.h"
#include "privacy/params.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"

namespace pinning::client {

class ActiveParams {
 public:
  // version returns the params version number.
  uint32_t version() const { return published_.version(); }
  // catalog_version returns the content hash of the catalog the parameters apply to.
  const std::string& catalog_version() const { return checker_->catalog().version(); }
  // published returns the ParamsVersion as served.
  const v1::ParamsVersion& published() const { return published_; }
  const v1::Catalog& catalog() const { return checker_->catalog(); }
  // checker returns the pin checker of the catalog.
  const PinChecker& checker() const { return *checker_; }
  const std::shared_ptr<const PinChecker>& shared_checker() const { return checker_; }
  const privacy::Params& params() const { return params_; }
  // num_pinsets returns K.
  int num_pinsets() const { return checker_->catalog().pinsets_size(); }
  // epsilon_one and epsilon_inf are the whole-ping epsilons recomputed locally.
  double epsilon_one() const { return epsilon_one_; }
  double epsilon_inf() const { return epsilon_inf_; }

  // EncoderConfig returns the privacy encoder's configuration for these parameters.
  privacy::EncoderConfig EncoderConfig() const;

 private:
  friend absl::StatusOr<std::shared_ptr<const ActiveParams>> MakeActiveParamsWithChecker(
      const v1::ParamsVersion& published, std::shared_ptr<const PinChecker> checker);
  ActiveParams(v1::ParamsVersion published, std::shared_ptr<const PinChecker> checker,
               privacy::Params params);

  v1::ParamsVersion published_;
  std::shared_ptr<const PinChecker> checker_;
  privacy::Params params_;
  double epsilon_one_;
  double epsilon_inf_;
};

// MakeActiveParams validates `published` against `catalog`. Errors: INVALID_ARGUMENT for a
// missing or malformed catalog (ValidateCatalog), a catalog whose version differs from
// published.catalog_version(), version 0, or parameters the privacy builder rejects or that do
// not fit K; FAILED_PRECONDITION for bits_per_pinset other than 2 (this client encodes
// checked/violated states only).
absl::StatusOr<std::shared_ptr<const ActiveParams>> MakeActiveParams(
    const v1::ParamsVersion& published, const v1::Catalog* catalog);

// MakeActiveParamsWithChecker is MakeActiveParams for a catalog already indexed by `checker`.
absl::StatusOr<std::shared_ptr<const ActiveParams>> MakeActiveParamsWithChecker(
    const v1::ParamsVersion& published, std::shared_ptr<const PinChecker> checker);

// ParamsCache interns catalogs and active parameters by version, so that the profiles of one
// process share them.
class ParamsCache {
 public:
  // Checker returns the cached checker (and catalog) of catalog `version`, or null.
  std::shared_ptr<const PinChecker> Checker(absl::string_view version) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Intern returns the cached ActiveParams for (published.version(), catalog version) or makes,
  // caches and returns a new one. `catalog` may be null when the catalog is cached already.
  // Errors: those of MakeActiveParams; NOT_FOUND when the catalog is neither given nor cached.
  absl::StatusOr<std::shared_ptr<const ActiveParams>> Intern(const v1::ParamsVersion& published,
                                                             const v1::Catalog* catalog)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const PinChecker>> checkers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<uint32_t, std::string>, std::shared_ptr<const ActiveParams>> params_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_ACTIVE_PARAMS_H_
