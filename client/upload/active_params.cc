#include "client/upload/active_params.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/catalog.h"
#include "privacy/pinset_state.h"

namespace pinning::client {

ActiveParams::ActiveParams(v1::ParamsVersion published, std::shared_ptr<const PinChecker> checker,
                           privacy::Params params)
    : published_(std::move(published)),
      checker_(std::move(checker)),
      params_(params),
      epsilon_one_(params_.EpsilonOne(checker_->catalog().pinsets_size())),
      epsilon_inf_(params_.EpsilonInf(checker_->catalog().pinsets_size())) {}

privacy::EncoderConfig ActiveParams::EncoderConfig() const {
  return privacy::EncoderConfig{.params = params_,
                                .num_pinsets = num_pinsets(),
                                .params_version = version(),
                                .catalog_version = catalog_version()};
}

absl::StatusOr<std::shared_ptr<const ActiveParams>> MakeActiveParams(
    const v1::ParamsVersion& published, const v1::Catalog* catalog) {
  if (catalog == nullptr) return absl::InvalidArgumentError("no catalog for the parameters");
  // PinChecker::Create validates the catalog (ValidateCatalog: structure and content hash).
  absl::StatusOr<PinChecker> checker = PinChecker::Create(*catalog);
  if (!checker.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("catalog: ", checker.status().message()));
  }
  return MakeActiveParamsWithChecker(published,
                                     std::make_shared<const PinChecker>(*std::move(checker)));
}

absl::StatusOr<std::shared_ptr<const ActiveParams>> MakeActiveParamsWithChecker(
    const v1::ParamsVersion& published, std::shared_ptr<const PinChecker> checker) {
  if (checker == nullptr) return absl::InvalidArgumentError("no catalog for the parameters");
  if (published.version() == 0) return absl::InvalidArgumentError("params version 0");
  const v1::Catalog& catalog = checker->catalog();
  if (catalog.version() != published.catalog_version()) {
    return absl::InvalidArgumentError(absl::StrCat("params version ", published.version(),
                                                   " names catalog ", published.catalog_version(),
                                                   " but the catalog is ", catalog.version()));
  }
  const v1::RandomizationParams& rp = published.params();
  const int bits =
      rp.bits_per_pinset() == 0 ? privacy::kStateBits : static_cast<int>(rp.bits_per_pinset());
  if (bits != privacy::kStateBits) {
    return absl::FailedPreconditionError(
        absl::StrCat("params version ", published.version(), " has ", bits,
                     " bits per pinset; this client reports ", privacy::kStateBits));
  }
  absl::StatusOr<privacy::Params> params =
      privacy::ParamsBuilder()
          .SetF(rp.f())
          .SetP(rp.p())
          .SetQ(rp.q())
          .SetPinsetsPerPing(static_cast<int>(rp.pinsets_per_ping()))
          .SetBitsPerPinset(bits)
          .Build();
  if (!params.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("params version ", published.version(), ": ", params.status().message()));
  }
  if (absl::Status fits = params->ValidateFor(catalog.pinsets_size()); !fits.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("params version ", published.version(), ": ", fits.message()));
  }
  return std::shared_ptr<const ActiveParams>(
      new ActiveParams(published, std::move(checker), *params));
}

std::shared_ptr<const PinChecker> ParamsCache::Checker(absl::string_view version) const {
  absl::MutexLock lock(&mu_);
  auto it = checkers_.find(version);
  return it == checkers_.end() ? nullptr : it->second;
}

absl::StatusOr<std::shared_ptr<const ActiveParams>> ParamsCache::Intern(
    const v1::ParamsVersion& published, const v1::Catalog* catalog) {
  const std::pair<uint32_t, std::string> key(published.version(), published.catalog_version());
  std::shared_ptr<const PinChecker> checker;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = params_.find(key); it != params_.end()) return it->second;
    // A cached catalog of that version has the same content (the version is its hash, checked
    // when it was cached); sharing it keeps one copy per process.
    if (auto it = checkers_.find(published.catalog_version()); it != checkers_.end()) {
      checker = it->second;
    }
  }
  if (checker == nullptr) {
    if (catalog == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("catalog ", published.catalog_version(), " is not known"));
    }
    absl::StatusOr<PinChecker> made = PinChecker::Create(*catalog);
    if (!made.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("catalog: ", made.status().message()));
    }
    checker = std::make_shared<const PinChecker>(*std::move(made));
  }
  absl::StatusOr<std::shared_ptr<const ActiveParams>> active =
      MakeActiveParamsWithChecker(published, checker);
  if (!active.ok()) return active.status();
  absl::MutexLock lock(&mu_);
  // Another thread may have interned the same key meanwhile; keep the first copy.
  auto [it, inserted] = params_.try_emplace(key, *active);
  checkers_.try_emplace((*active)->catalog_version(), (*active)->shared_checker());
  return it->second;
}

}  // namespace pinning::client
