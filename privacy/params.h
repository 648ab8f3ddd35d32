// params.h: the randomization parameters of one published parameter version, built and validated
// through ParamsBuilder.
//
// Params holds f (PRR), p and q (IRR), s = pinsets_per_ping (how many pinsets one ping reports) and
// the number of bits per pinset (2 today: checked, violated). See DESIGN §4 and privacy/epsilon.h.
//
// Usage:
//   absl::StatusOr<Params> params =
//       ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(4).Build();
//   if (!params.ok()) return params.status();
//   RETURN_IF_ERROR(params->ValidateFor(catalog_size));
//   double eps1 = params->EpsilonOne(catalog_size);     // one ping, all reported bits
//   double eps_inf = params->EpsilonInf(catalog_size);  // unlimited pings of the same truth
//
// Params is an immutable value type; copying is cheap and thread-safe.
#ifndef PRIVACY_PARAMS_H_
#define PRIVACY_PARAMS_H_

#include <optional>
#include <string>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace privacy {

// The default number of randomized bits per pinset: bit 0 = checked, bit 1 = violated.
inline constexpr int kDefaultBitsPerPinset = 2;

class Params {
 public:
  // f: probability that the PRR replaces a bit by a fair coin (f/2 to 1, f/2 to 0). 0 <= f < 1.
  double f() const { return f_; }
  // p: probability that the IRR reports 1 when the PRR bit is 0.
  double p() const { return p_; }
  // q: probability that the IRR reports 1 when the PRR bit is 1. p < q.
  double q() const { return q_; }
  // pinsets_per_ping: s >= 1, the number of pinsets one ping reports; s >= K means all K.
  int pinsets_per_ping() const { return pinsets_per_ping_; }
  // bits_per_pinset: randomized bits reported per pinset (>= 1).
  int bits_per_pinset() const { return bits_per_pinset_; }

  // PStar returns p* = ½f(p+q) + (1−f)p, the probability that a reported bit is 1 when its truth is
  // 0.
  double PStar() const;
  // QStar returns q* = ½f(p+q) + (1−f)q, the probability that a reported bit is 1 when its truth
  // is 1.
  double QStar() const;

  // ValidateFor checks that these parameters can be used with a catalog of `num_pinsets` pinsets:
  // K >= 1 and s <= K. INVALID_ARGUMENT otherwise.
  ABSL_MUST_USE_RESULT absl::Status ValidateFor(int num_pinsets) const;

  // ReportsAllPinsets returns true when a ping reports every pinset (s >= K); pings then carry no
  // pinset indices.
  bool ReportsAllPinsets(int num_pinsets) const { return pinsets_per_ping_ >= num_pinsets; }
  // ReportedPinsets returns min(s, K).
  int ReportedPinsets(int num_pinsets) const;
  // ReportedBits returns m = bits_per_pinset · min(s, K), the number of bits in one ping.
  int ReportedBits(int num_pinsets) const;

  // EpsilonOne returns the privacy loss of one whole ping for a catalog of K pinsets:
  // m·ε1_bit with m = bits_per_pinset · min(s, K) (two truths may differ in every reported bit; the
  // reported indices are independent of the truth). +infinity when p* = 0 or q* = 1.
  double EpsilonOne(int num_pinsets) const;

  // EpsilonInf returns the privacy loss of unlimited pings of the same truth for a catalog of K
  // pinsets: bits_per_pinset · K · ε∞_bit. Note K, not min(s, K): when s < K each day reports a
  // fresh random subset, so over unlimited days every pinset is reported and the memoized PRR bits
  // of all K pinsets are eventually revealed (exact_distribution_test proves both the bound and
  // that it is reached). +infinity when f = 0.
  double EpsilonInf(int num_pinsets) const;

  // DebugString returns "f=0.5 p=0.25 q=0.75 s=4 bits=2".
  std::string DebugString() const;

  friend bool operator==(const Params& a, const Params& b) {
    return a.f_ == b.f_ && a.p_ == b.p_ && a.q_ == b.q_ &&
           a.pinsets_per_ping_ == b.pinsets_per_ping_ && a.bits_per_pinset_ == b.bits_per_pinset_;
  }
  friend bool operator!=(const Params& a, const Params& b) { return !(a == b); }

 private:
  friend class ParamsBuilder;
  Params(double f, double p, double q, int pinsets_per_ping, int bits_per_pinset)
      : f_(f),
        p_(p),
        q_(q),
        pinsets_per_ping_(pinsets_per_ping),
        bits_per_pinset_(bits_per_pinset) {}

  double f_;
  double p_;
  double q_;
  int pinsets_per_ping_;
  int bits_per_pinset_;
};

// ParamsBuilder validates and builds Params. f, p, q and pinsets_per_ping must be set;
// bits_per_pinset defaults to kDefaultBitsPerPinset.
class ParamsBuilder {
 public:
  ParamsBuilder() = default;

  ParamsBuilder& SetF(double f) {
    f_ = f;
    return *this;
  }
  ParamsBuilder& SetP(double p) {
    p_ = p;
    return *this;
  }
  ParamsBuilder& SetQ(double q) {
    q_ = q;
    return *this;
  }
  ParamsBuilder& SetPinsetsPerPing(int s) {
    pinsets_per_ping_ = s;
    return *this;
  }
  ParamsBuilder& SetBitsPerPinset(int bits) {
    bits_per_pinset_ = bits;
    return *this;
  }

  // Build returns the Params, or INVALID_ARGUMENT naming the offending parameter and its value when
  // a value is unset, not finite, or out of range: 0 <= f < 1 (f = 1 would make every report pure
  // noise), 0 <= p < q <= 1 (p >= q carries no signal or inverts it), s >= 1, bits >= 1.
  absl::StatusOr<Params> Build() const;

 private:
  std::optional<double> f_;
  std::optional<double> p_;
  std::optional<double> q_;
  std::optional<int> pinsets_per_ping_;
  int bits_per_pinset_ = kDefaultBitsPerPinset;
};

}  // namespace privacy

#endif  // PRIVACY_PARAMS_H_
