// Runs the privacyctl binary and checks its JSON against figures computed here independently.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Result {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

Result RunPrivacyctl(const std::string& args) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string binary = std::string(srcdir ? srcdir : ".") + "/" +
                             (workspace ? workspace : "pinning_telemetry") + "/privacy/privacyctl";
  const std::string command = binary + " " + args + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Values returns every value written for "key" in order of appearance, as raw text (strings
// without their quotes).
std::vector<std::string> Values(const std::string& json, const std::string& key) {
  std::vector<std::string> out;
  const std::string needle = "\"" + key + "\": ";
  for (size_t pos = json.find(needle); pos != std::string::npos; pos = json.find(needle, pos + 1)) {
    size_t start = pos + needle.size();
    size_t end;
    if (json[start] == '"') {
      ++start;
      end = json.find('"', start);
    } else {
      end = json.find_first_of(",\n}]", start);
    }
    out.push_back(json.substr(start, end - start));
  }
  return out;
}

double Number(const std::string& json, const std::string& key, size_t index = 0) {
  const std::vector<std::string> values = Values(json, key);
  if (index >= values.size()) {
    ADD_FAILURE() << "no value " << index << " for " << key << " in\n" << json;
    return std::nan("");
  }
  if (values[index] == "inf") return kInf;
  return std::strtod(values[index].c_str(), nullptr);
}

// Independent formulas (RAPPOR, DESIGN §4).
double PStar(double f, double p, double q) { return f / 2 * (p + q) + (1 - f) * p; }
double QStar(double f, double p, double q) { return f / 2 * (p + q) + (1 - f) * q; }

TEST(PrivacyctlTest, EpsilonBloomReferenceFact) {
  const Result r = RunPrivacyctl("epsilon --f 0.5 --p 0.5 --q 0.75 --bloom-hashes 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NEAR(Number(r.out, "epsilon_inf"), 4 * std::log(3.0), 1e-12);
  EXPECT_NEAR(Number(r.out, "epsilon_one"), 1.0743, 5e-5);
  const double ps = 0.5625, qs = 0.6875;
  EXPECT_NEAR(Number(r.out, "epsilon_one"), 2 * std::log(qs * (1 - ps) / (ps * (1 - qs))), 1e-12);
}

TEST(PrivacyctlTest, EpsilonArbitraryBitsAndInfinity) {
  const Result r = RunPrivacyctl("epsilon --f=0 --p=0.25 --q=0.75 --bits=4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Values(r.out, "epsilon_inf")[0], "inf");
  EXPECT_NEAR(Number(r.out, "epsilon_one"), 4 * std::log(3.0), 1e-12);
}

TEST(PrivacyctlTest, EpsilonWholePing) {
  // Chrome's normal noise, s = 2 of K = 5: ε1 = 2·2·ln(5/3), ε∞ = 2·5·ln 3.
  const Result r =
      RunPrivacyctl("epsilon --f 0.5 --p 0.25 --q 0.75 --pinsets 5 --pinsets-per-ping 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NEAR(Number(r.out, "epsilon_one"), 4 * std::log(5.0 / 3), 1e-12);
  EXPECT_NEAR(Number(r.out, "epsilon_inf"), 10 * std::log(3.0), 1e-12);
  EXPECT_EQ(Number(r.out, "reported_bits"), 4);
}

TEST(PrivacyctlTest, EpsilonTable) {
  const Result r = RunPrivacyctl("epsilon --f 0.5 --p 0.5 --q 0.75 --bloom-hashes 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("4.3944"));
  EXPECT_THAT(r.out, HasSubstr("1.0743"));
}

TEST(PrivacyctlTest, TuneMeetsTargetsAndReportsItsObjective) {
  const double e1 = 4, einf = 40, n = 1e6, check = 0.1, rate = 0.01;
  const int k = 16;
  const Result r = RunPrivacyctl(
      "tune --epsilon-one 4 --epsilon-inf 40 --pinsets 16 --pings-per-day 1000000 "
      "--check-fraction 0.1 --violation-rate 0.01 --org-pinsets 4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const double f = Number(r.out, "f"), p = Number(r.out, "p"), q = Number(r.out, "q");
  const double s = Number(r.out, "pinsets_per_ping");
  const double ps = PStar(f, p, q), qs = QStar(f, p, q), gap = qs - ps;
  const double eps1 = 2 * s * std::max(std::log(qs / ps), std::log((1 - ps) / (1 - qs)));
  const double epsinf = 2 * k * std::log((1 - f / 2) / (f / 2));
  EXPECT_NEAR(Number(r.out, "epsilon_one"), eps1, 1e-9);
  EXPECT_NEAR(Number(r.out, "epsilon_inf"), epsinf, 1e-9);
  EXPECT_LE(eps1, e1 + 1e-12);
  EXPECT_LE(epsinf, einf + 1e-12);
  const double j = k / s * ps * (1 - ps) / (gap * gap);
  EXPECT_NEAR(Number(r.out, "objective") / j, 1, 1e-9);
  // The closed-form optimum over s: min_s (K/s) / (4 sinh²(min(E1/2s, E∞/2K)/2)).
  double best = kInf;
  for (int t = 1; t <= k; ++t) {
    const double a = std::min(e1 / (2 * t), einf / (2 * k));
    best = std::min(best, static_cast<double>(k) / t / (4 * std::pow(std::sinh(a / 2), 2)));
  }
  EXPECT_NEAR(j / best, 1, 1e-9);
  // Projected SE: delta method at the expected counts.
  const double reports = n * s / k, c = check, v = check * rate;
  const double rv = ps + gap * v, rc = ps + gap * c;
  const double var = (reports * rv * (1 - rv) - 2 * rate * reports * v * (1 - c) * gap * gap +
                      rate * rate * reports * rc * (1 - rc)) /
                     (gap * gap) / std::pow(reports * c, 2);
  EXPECT_NEAR(Number(r.out, "projected_std_error") / std::sqrt(var), 1, 1e-9);
  EXPECT_NEAR(Number(r.out, "projected_org_std_error") / std::sqrt(var / 4), 1, 1e-9);
  // Baselines: google/rappor's defaults with all 16 pinsets: J = (16/16)·p*(1−p*)/(q*−p*)².
  const std::vector<std::string> names = Values(r.out, "name");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "google_rappor_defaults_all_pinsets");
  EXPECT_NEAR(Number(r.out, "objective", 1), 16.0 / 16 * 0.5625 * 0.4375 / (0.125 * 0.125), 1e-9);
  EXPECT_EQ(Values(r.out, "meets_targets")[0], "false");
  EXPECT_THAT(r.out, HasSubstr("chrome_normal_noise_largest_fitting_subset"));
}

TEST(PrivacyctlTest, TuneWithoutLongitudinalBound) {
  const Result r = RunPrivacyctl("tune --epsilon-one 2 --epsilon-inf inf --pinsets 8 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Number(r.out, "f"), 0);
  EXPECT_EQ(Values(r.out, "epsilon_inf")[0], "inf");
  EXPECT_EQ(Number(r.out, "pinsets_per_ping"), 1);
  // Symmetric randomized response with e^ε = e^(2/2): p = 1/(1+e).
  EXPECT_NEAR(Number(r.out, "p"), 1 / (1 + std::exp(1.0)), 1e-12);
  EXPECT_TRUE(Values(r.out, "projected_std_error").empty());
}

TEST(PrivacyctlTest, TuneTable) {
  const Result r =
      RunPrivacyctl("tune --epsilon-one 4 --epsilon-inf 40 --pinsets 16 --pings-per-day 1e6");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("tuned"));
  EXPECT_THAT(r.out, HasSubstr("SE pinset"));
}

TEST(PrivacyctlTest, SimulateReportsConsistentIntervals) {
  const Result r = RunPrivacyctl(
      "simulate --f 0.25 --p 0.25 --q 0.75 --pinsets 3 --pinsets-per-ping 1 --clients 9000 "
      "--check-fraction 0.5,0.3,0.2 --violation-rate 0.1,0.3,0.2 --seed 5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::vector<std::string> scopes = Values(r.out, "scope");
  ASSERT_EQ(scopes.size(), 4u);
  EXPECT_EQ(scopes[3], "organization");
  const std::vector<double> truths = {0.1, 0.3, 0.2, (0.05 + 0.09 + 0.04) / 1.0};
  int64_t reports = 0;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(Number(r.out, "truth", i), truths[i], 1e-12);
    // The interval is centred on the unclamped ratio and clamped to [0, 1], like the estimate.
    const double raw = Number(r.out, "unclamped_estimate", i), se = Number(r.out, "std_error", i);
    const double est = Number(r.out, "estimate", i);
    const double lo = Number(r.out, "ci_low", i), hi = Number(r.out, "ci_high", i);
    EXPECT_DOUBLE_EQ(est, std::clamp(raw, 0.0, 1.0));
    EXPECT_LE(lo, est);
    EXPECT_LE(est, hi);
    EXPECT_NEAR(lo, std::clamp(raw - 1.959964 * se, 0.0, 1.0), 1e-6);
    EXPECT_NEAR(hi, std::clamp(raw + 1.959964 * se, 0.0, 1.0), 1e-6);
    EXPECT_NEAR(raw, truths[i], 4 * se);
    if (i < 3) reports += static_cast<int64_t>(Number(r.out, "reports", i));
  }
  EXPECT_EQ(reports, 9000);
  EXPECT_EQ(Number(r.out, "reports", 3), 9000);
}

TEST(PrivacyctlTest, SimulateTrialsCoverage) {
  constexpr int kTrials = 200;
  const Result r = RunPrivacyctl(
      "simulate --f 0.1 --p 0.15 --q 0.85 --pinsets 1 --clients 1500 --check-fraction 0.5 "
      "--violation-rate 0.3 --trials 200 --seed 77 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const double coverage = Number(r.out, "coverage");
  // Binomial(200, 0.95): SD 0.0154; ±4 SD.
  EXPECT_GE(coverage, 0.95 - 4 * 0.0154);
  EXPECT_LE(coverage, 1.0);
  const double sd = Number(r.out, "empirical_sd"), mean_se = Number(r.out, "mean_std_error");
  EXPECT_NEAR(Number(r.out, "mean_estimate"), 0.3, 4 * mean_se / std::sqrt(kTrials));
  // The SD of a sample SD from 200 normal draws is about SD/sqrt(400) = 5%: allow 20%.
  EXPECT_NEAR(sd / mean_se, 1, 0.2);
}

TEST(PrivacyctlTest, DemoPassesItsChecks) {
  const Result r = RunPrivacyctl("demo");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("demo: all checks passed"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("[FAIL]")));
}

TEST(PrivacyctlTest, ErrorsAndHelp) {
  const Result bad = RunPrivacyctl("epsilon --f 1 --p 0.25 --q 0.75 --bits 2");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.out, HasSubstr("f = 1 is invalid"));
  const Result inverted = RunPrivacyctl("epsilon --f 0.5 --p 0.75 --q 0.25 --bits 2");
  EXPECT_EQ(inverted.exit_code, 1);
  EXPECT_THAT(inverted.out, HasSubstr("p must be < q"));
  EXPECT_EQ(RunPrivacyctl("").exit_code, 2);
  EXPECT_EQ(RunPrivacyctl("frobnicate").exit_code, 2);
  EXPECT_EQ(RunPrivacyctl("epsilon --f 0.5 --p 0.25 --q 0.75").exit_code, 2);
  EXPECT_EQ(RunPrivacyctl("tune --epsilon-one 1 --pinsets 3").exit_code, 2);
  const Result help = RunPrivacyctl("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"epsilon", "tune", "simulate", "demo", "--json"}) {
    EXPECT_THAT(help.out, HasSubstr(command));
  }
}

}  // namespace
