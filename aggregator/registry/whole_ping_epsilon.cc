#include "aggregator/registry/whole_ping_epsilon.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "privacy/params.h"

namespace pinning::aggregator {

absl::StatusOr<privacy::Params> ToPrivacyParams(const v1::RandomizationParams& params) {
  if (params.pinsets_per_ping() > static_cast<uint32_t>(INT32_MAX) ||
      params.bits_per_pinset() > static_cast<uint32_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("pinsets_per_ping or bits_per_pinset out of range");
  }
  return privacy::ParamsBuilder()
      .SetF(params.f())
      .SetP(params.p())
      .SetQ(params.q())
      .SetPinsetsPerPing(static_cast<int>(params.pinsets_per_ping()))
      .SetBitsPerPinset(static_cast<int>(params.bits_per_pinset()))
      .Build();
}

absl::StatusOr<WholePingEpsilon> ComputeWholePingEpsilon(const v1::RandomizationParams& params,
                                                         uint32_t num_pinsets) {
  absl::StatusOr<privacy::Params> built = ToPrivacyParams(params);
  if (!built.ok()) return built.status();
  const int k = static_cast<int>(num_pinsets);
  if (params.pinsets_per_ping() > num_pinsets) {
    return absl::InvalidArgumentError(absl::StrCat("pinsets_per_ping ", params.pinsets_per_ping(),
                                                    " exceeds the catalog's K = ", num_pinsets));
  }
  if (absl::Status s = built->ValidateFor(k); !s.ok()) return s;
  return WholePingEpsilon{built->EpsilonOne(k), built->EpsilonInf(k)};
}

}  // namespace pinning::aggregator
