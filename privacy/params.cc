#include "privacy/params.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "privacy/epsilon.h"

namespace privacy {
namespace {

absl::Status Invalid(absl::string_view name, double value, absl::string_view requirement) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s = %.17g is invalid: %s", name, value, requirement));
}

}  // namespace

double Params::PStar() const { return ReportedOneProbability(f_, p_, q_, false); }

double Params::QStar() const { return ReportedOneProbability(f_, p_, q_, true); }

absl::Status Params::ValidateFor(int num_pinsets) const {
  if (num_pinsets < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("number of pinsets K = ", num_pinsets, " is invalid: must be >= 1"));
  }
  if (pinsets_per_ping_ > num_pinsets) {
    return absl::InvalidArgumentError(absl::StrCat("pinsets_per_ping = ", pinsets_per_ping_,
                                                   " is invalid for a catalog of K = ", num_pinsets,
                                                   " pinsets: must be <= K"));
  }
  return absl::OkStatus();
}

int Params::ReportedPinsets(int num_pinsets) const {
  return std::max(0, std::min(pinsets_per_ping_, num_pinsets));
}

int Params::ReportedBits(int num_pinsets) const {
  return bits_per_pinset_ * ReportedPinsets(num_pinsets);
}

double Params::EpsilonOne(int num_pinsets) const {
  return ArbitraryBitsEpsilon(f_, p_, q_, ReportedBits(num_pinsets)).epsilon_one;
}

double Params::EpsilonInf(int num_pinsets) const {
  return ArbitraryBitsEpsilon(f_, p_, q_, bits_per_pinset_ * std::max(num_pinsets, 1)).epsilon_inf;
}

std::string Params::DebugString() const {
  return absl::StrFormat("f=%.17g p=%.17g q=%.17g s=%d bits=%d", f_, p_, q_, pinsets_per_ping_,
                         bits_per_pinset_);
}

absl::StatusOr<Params> ParamsBuilder::Build() const {
  if (!f_.has_value()) return absl::InvalidArgumentError("f is not set");
  if (!p_.has_value()) return absl::InvalidArgumentError("p is not set");
  if (!q_.has_value()) return absl::InvalidArgumentError("q is not set");
  if (!pinsets_per_ping_.has_value()) {
    return absl::InvalidArgumentError("pinsets_per_ping is not set");
  }
  const double f = *f_, p = *p_, q = *q_;
  if (!std::isfinite(f)) return Invalid("f", f, "must be finite");
  if (!std::isfinite(p)) return Invalid("p", p, "must be finite");
  if (!std::isfinite(q)) return Invalid("q", q, "must be finite");
  if (f < 0) return Invalid("f", f, "must be >= 0");
  if (f >= 1) return Invalid("f", f, "must be < 1 (f = 1 makes every report pure noise)");
  if (p < 0) return Invalid("p", p, "must be >= 0");
  if (q > 1) return Invalid("q", q, "must be <= 1");
  if (p >= q) {
    return absl::InvalidArgumentError(
        absl::StrFormat("p = %.17g and q = %.17g are invalid: p must be < q (p >= q carries no "
                        "signal or inverts it)",
                        p, q));
  }
  if (*pinsets_per_ping_ < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pinsets_per_ping = ", *pinsets_per_ping_, " is invalid: must be >= 1"));
  }
  if (bits_per_pinset_ < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bits_per_pinset = ", bits_per_pinset_, " is invalid: must be >= 1"));
  }
  return Params(f, p, q, *pinsets_per_ping_, bits_per_pinset_);
}

}  // namespace privacy
