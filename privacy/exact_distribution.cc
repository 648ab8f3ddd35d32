#include "privacy/exact_distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "privacy/pinset_state.h"

namespace privacy {
namespace {

// Subsets returns the reported-pinset lists in canonical order: all s-subsets of [0, K) in
// lexicographic order when s < K, or the single list 0..K−1.
std::vector<std::vector<uint32_t>> Subsets(int k, int s) {
  std::vector<std::vector<uint32_t>> out;
  std::vector<uint32_t> current(s);
  for (int i = 0; i < s; ++i) current[i] = i;
  while (true) {
    out.push_back(current);
    int i = s - 1;
    while (i >= 0 && current[i] == static_cast<uint32_t>(k - s + i)) --i;
    if (i < 0) break;
    ++current[i];
    for (int j = i + 1; j < s; ++j) current[j] = current[j - 1] + 1;
  }
  return out;
}

// PrrOne returns P(PRR bit = 1 | true bit): the PRR keeps the truth with probability 1 − f and
// otherwise draws a fair coin.
double PrrOne(double f, bool truth) { return (1 - f) * (truth ? 1.0 : 0.0) + f * 0.5; }

// IrrOne returns P(reported 1 | PRR bit).
double IrrOne(const Params& params, bool prr) { return prr ? params.q() : params.p(); }

// ReportOne sums over the PRR outcome: P(report 1 | truth) = Σ_w P(w | truth) P(1 | w).
double ReportOne(const Params& params, bool truth) {
  const double w1 = PrrOne(params.f(), truth);
  return w1 * IrrOne(params, true) + (1 - w1) * IrrOne(params, false);
}

absl::Status CheckInputs(const Params& params, int k, absl::Span<const uint8_t> truth) {
  if (absl::Status status = params.ValidateFor(k); !status.ok()) return status;
  if (truth.size() != static_cast<size_t>(k) * params.bits_per_pinset()) {
    return absl::InvalidArgumentError(
        absl::StrCat("truth has ", truth.size(), " bits; expected ", k * params.bits_per_pinset()));
  }
  return absl::OkStatus();
}

struct PingSpace {
  std::vector<std::vector<uint32_t>> subsets;
  int bits = 0;  // m
  int64_t size = 0;
};

absl::StatusOr<PingSpace> MakePingSpace(const Params& params, int k) {
  PingSpace space;
  const int reported = params.ReportedPinsets(k);
  space.bits = params.ReportedBits(k);
  if (space.bits >= 40) return absl::InvalidArgumentError("outcome space too large");
  space.subsets = Subsets(k, reported);
  space.size = static_cast<int64_t>(space.subsets.size()) << space.bits;
  if (space.size > kMaxEnumeration) return absl::InvalidArgumentError("outcome space too large");
  return space;
}

// FillPingGivenBitProbabilities writes P(outcome) for one ping when reported bit (pinset i, bit k)
// is 1 with probability one_prob[i·b + k], independently.
std::vector<double> PingDistribution(const PingSpace& space, const Params& params,
                                     const std::vector<double>& one_prob) {
  const int b = params.bits_per_pinset();
  const double subset_prob = 1.0 / space.subsets.size();
  std::vector<double> dist(space.size);
  const int64_t patterns = int64_t{1} << space.bits;
  for (size_t r = 0; r < space.subsets.size(); ++r) {
    for (int64_t pattern = 0; pattern < patterns; ++pattern) {
      double prob = subset_prob;
      for (size_t pos = 0; pos < space.subsets[r].size(); ++pos) {
        for (int bit = 0; bit < b; ++bit) {
          const size_t j = ReportBitIndex(pos, bit, b);
          const double one = one_prob[space.subsets[r][pos] * b + bit];
          prob *= ((pattern >> j) & 1) ? one : 1 - one;
        }
      }
      dist[r * patterns + pattern] = prob;
    }
  }
  return dist;
}

}  // namespace

std::vector<std::vector<uint8_t>> StateTruths(int num_pinsets) {
  std::vector<std::vector<uint8_t>> out;
  int64_t total = 1;
  for (int i = 0; i < num_pinsets; ++i) total *= 3;
  for (int64_t code = 0; code < total; ++code) {
    std::vector<uint8_t> bits;
    int64_t rest = code;
    for (int i = 0; i < num_pinsets; ++i, rest /= 3) {
      const auto state = static_cast<PinsetState>(rest % 3);
      bits.push_back(TrueBit(state, kCheckedBit));
      bits.push_back(TrueBit(state, kViolatedBit));
    }
    out.push_back(std::move(bits));
  }
  return out;
}

std::vector<std::vector<uint8_t>> BitTruths(int num_pinsets, int bits_per_pinset) {
  const int n = num_pinsets * bits_per_pinset;
  std::vector<std::vector<uint8_t>> out;
  for (int64_t code = 0; code < (int64_t{1} << n); ++code) {
    std::vector<uint8_t> bits(n);
    for (int j = 0; j < n; ++j) bits[j] = (code >> j) & 1;
    out.push_back(std::move(bits));
  }
  return out;
}

absl::StatusOr<std::vector<double>> ExactPingDistribution(const Params& params, int num_pinsets,
                                                          absl::Span<const uint8_t> truth) {
  if (absl::Status status = CheckInputs(params, num_pinsets, truth); !status.ok()) return status;
  absl::StatusOr<PingSpace> space = MakePingSpace(params, num_pinsets);
  if (!space.ok()) return space.status();
  std::vector<double> one_prob(truth.size());
  for (size_t j = 0; j < truth.size(); ++j) one_prob[j] = ReportOne(params, truth[j] != 0);
  return PingDistribution(*space, params, one_prob);
}

absl::StatusOr<int64_t> PingOutcomeIndex(const EncodedReport& report, const Params& params,
                                         int num_pinsets) {
  if (absl::Status status = ValidateReport(report, params, num_pinsets); !status.ok()) {
    return status;
  }
  absl::StatusOr<PingSpace> space = MakePingSpace(params, num_pinsets);
  if (!space.ok()) return space.status();
  int64_t rank = 0;
  if (!report.pinset_indices.empty()) {
    auto it = std::find(space->subsets.begin(), space->subsets.end(), report.pinset_indices);
    rank = it - space->subsets.begin();
  }
  int64_t pattern = 0;
  for (int j = 0; j < space->bits; ++j) {
    if (UnpackBit(report.bits, j)) pattern |= int64_t{1} << j;
  }
  return (rank << space->bits) + pattern;
}

absl::StatusOr<std::vector<double>> ExactPrrDistribution(const Params& params, int num_pinsets,
                                                         absl::Span<const uint8_t> truth) {
  if (absl::Status status = CheckInputs(params, num_pinsets, truth); !status.ok()) return status;
  const int n = static_cast<int>(truth.size());
  if (n >= 40 || (int64_t{1} << n) > kMaxEnumeration) {
    return absl::InvalidArgumentError("outcome space too large");
  }
  std::vector<double> dist(size_t{1} << n);
  for (int64_t w = 0; w < (int64_t{1} << n); ++w) {
    double prob = 1;
    for (int j = 0; j < n; ++j) {
      const double one = PrrOne(params.f(), truth[j] != 0);
      prob *= ((w >> j) & 1) ? one : 1 - one;
    }
    dist[w] = prob;
  }
  return dist;
}

absl::StatusOr<std::vector<double>> ExactMultiDayDistribution(const Params& params, int num_pinsets,
                                                              absl::Span<const uint8_t> truth,
                                                              int days) {
  if (days < 1) return absl::InvalidArgumentError("days must be >= 1");
  absl::StatusOr<std::vector<double>> prr = ExactPrrDistribution(params, num_pinsets, truth);
  if (!prr.ok()) return prr.status();
  absl::StatusOr<PingSpace> space = MakePingSpace(params, num_pinsets);
  if (!space.ok()) return space.status();
  int64_t total = 1;
  for (int d = 0; d < days; ++d) {
    if (total > kMaxEnumeration / space->size) {
      return absl::InvalidArgumentError("outcome space too large");
    }
    total *= space->size;
  }
  if (total * static_cast<int64_t>(prr->size()) > kMaxEnumeration * 4) {
    return absl::InvalidArgumentError("enumeration too large");
  }
  // One day's outcome distribution given the PRR bits w: each reported bit is 1 with q or p.
  const int n = static_cast<int>(truth.size());
  std::vector<std::vector<double>> day_given_w(prr->size());
  for (size_t w = 0; w < prr->size(); ++w) {
    std::vector<double> one_prob(n);
    for (int j = 0; j < n; ++j) one_prob[j] = IrrOne(params, (w >> j) & 1);
    day_given_w[w] = PingDistribution(*space, params, one_prob);
  }
  std::vector<double> dist(total, 0.0);
  for (int64_t outcome = 0; outcome < total; ++outcome) {
    double sum = 0;
    for (size_t w = 0; w < prr->size(); ++w) {
      if ((*prr)[w] == 0) continue;
      double prob = (*prr)[w];
      int64_t rest = outcome;
      for (int d = 0; d < days; ++d, rest /= space->size)
        prob *= day_given_w[w][rest % space->size];
      sum += prob;
    }
    dist[outcome] = sum;
  }
  return dist;
}

double MaxLogLikelihoodRatio(absl::Span<const std::vector<double>> distributions) {
  double best = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < distributions.size(); ++i) {
    for (size_t j = 0; j < distributions.size(); ++j) {
      if (i == j) continue;
      const std::vector<double>& a = distributions[i];
      const std::vector<double>& b = distributions[j];
      for (size_t o = 0; o < a.size() && o < b.size(); ++o) {
        if (!(a[o] > 0)) continue;
        if (!(b[o] > 0)) return std::numeric_limits<double>::infinity();
        best = std::max(best, std::log(a[o]) - std::log(b[o]));
      }
    }
  }
  return best;
}

}  // namespace privacy
