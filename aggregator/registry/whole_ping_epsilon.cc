#include "aggregator/registry/whole_ping_epsilon.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pinning::aggregator {

absl::StatusOr<WholePingEpsilon> ComputeWholePingEpsilon(const v1::RandomizationParams& params,
                                                         uint32_t num_pinsets) {
  const double f = params.f(), p = params.p(), q = params.q();
  if (!(f >= 0 && f < 1)) return absl::InvalidArgumentError(absl::StrCat("f = ", f, " not in [0, 1)"));
  if (!(p >= 0 && p < q && q <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("need 0 <= p < q <= 1, got p = ", p, " q = ", q));
  }
  if (params.pinsets_per_ping() < 1 || params.pinsets_per_ping() > num_pinsets) {
    return absl::InvalidArgumentError(absl::StrCat("pinsets_per_ping ", params.pinsets_per_ping(),
                                                   " not in [1, ", num_pinsets, "]"));
  }
  if (params.bits_per_pinset() < 1) return absl::InvalidArgumentError("bits_per_pinset < 1");
  const double inf = std::numeric_limits<double>::infinity();
  const double p_star = 0.5 * f * (p + q) + (1 - f) * p;
  const double q_star = 0.5 * f * (p + q) + (1 - f) * q;
  const double m = static_cast<double>(params.bits_per_pinset()) * params.pinsets_per_ping();
  const double one_bit = (p_star <= 0 || q_star >= 1)
                             ? inf
                             : std::max(std::log(q_star / p_star),
                                        std::log((1 - p_star) / (1 - q_star)));
  const double inf_bit = f == 0 ? inf : std::log((1 - f / 2) / (f / 2));
  return WholePingEpsilon{m * one_bit, m * inf_bit};
}

}  // namespace pinning::aggregator
