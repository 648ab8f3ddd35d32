// privacyctl: the privacy team's tool. Epsilon accounting, parameter tuning with projected errors,
// simulations with known truth, and a self-checking demo. Run `privacyctl --help`.
//
//   privacyctl epsilon --f 0.5 --p 0.5 --q 0.75 --bloom-hashes 2
//   privacyctl tune --epsilon-one 4 --epsilon-inf 40 --pinsets 16 --pings-per-day 1000000 --json
//   privacyctl simulate --f 0.25 --p 0.25 --q 0.75 --pinsets 4 --clients 20000
//   privacyctl demo
//
// Output is a human-readable table, or JSON with --json (infinities as the string "inf").
// Exit status: 0 success, 1 failure (including a failed demo check), 2 usage error.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "privacy/epsilon.h"
#include "privacy/estimator.h"
#include "privacy/json_writer.h"
#include "privacy/params.h"
#include "privacy/simulation.h"
#include "privacy/tuner.h"

namespace {
constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

// Flag names use underscores here; the command line accepts dashes too (--bloom-hashes).
ABSL_FLAG(bool, json, false, "Print JSON instead of a table.");
ABSL_FLAG(double, f, kUnset, "PRR probability f, 0 <= f < 1.");
ABSL_FLAG(double, p, kUnset, "IRR probability p of reporting 1 for a PRR 0.");
ABSL_FLAG(double, q, kUnset, "IRR probability q of reporting 1 for a PRR 1, p < q <= 1.");
ABSL_FLAG(int, bits, 0, "epsilon: number m of arbitrary bits in one report.");
ABSL_FLAG(int, bloom_hashes, 0, "epsilon: google/rappor Bloom filter with this many hashes.");
ABSL_FLAG(int, pinsets, 0, "Number K of pinsets in the catalog.");
ABSL_FLAG(int, pinsets_per_ping, 0, "s, pinsets reported per ping (0 = all K).");
ABSL_FLAG(int, bits_per_pinset, privacy::kDefaultBitsPerPinset, "Bits reported per pinset.");
ABSL_FLAG(double, epsilon_one, kUnset, "tune: whole-ping epsilon target for one ping.");
ABSL_FLAG(double, epsilon_inf, kUnset,
          "tune: whole-ping epsilon target for unlimited pings of one truth (inf allowed).");
ABSL_FLAG(int, max_pinsets_per_ping, 0, "tune: upper bound on s (0 = K).");
ABSL_FLAG(std::string, f_choice, "most_irr_noise",
          "tune: tie-break between equally good f: most_irr_noise or least_epsilon_inf.");
ABSL_FLAG(double, pings_per_day, 0, "tune: daily pings N; enables projected standard errors.");
ABSL_FLAG(std::vector<std::string>, check_fraction, {"0.1"},
          "Fraction of clients that check a pinset on a day (tune: one value; simulate: one value "
          "or one per pinset, comma-separated).");
ABSL_FLAG(std::vector<std::string>, violation_rate, {"0.01"},
          "Fraction of checking clients that see a violation (same forms as --check_fraction).");
ABSL_FLAG(int, org_pinsets, 4, "tune: pinsets per organization for its projected error.");
ABSL_FLAG(int64_t, clients, 20000, "simulate: clients (one ping each) per population.");
ABSL_FLAG(uint64_t, seed, 1, "simulate: seed of the population (trial t uses seed + t).");
ABSL_FLAG(int, trials, 1, "simulate: number of populations; > 1 prints coverage summaries.");

namespace privacy {
namespace {

constexpr char kUsage[] =
    R"(privacyctl: privacy parameters for pinning-violation telemetry (RAPPOR-style LDP).

Usage: privacyctl <command> [flags]      (flags accept dashes or underscores)

Commands:
  epsilon   Privacy loss of one report (epsilon_one) and of unlimited reports (epsilon_inf).
              --f F --p P --q Q and one of:
              --bits M                 m arbitrary bits
              --bloom-hashes H         google/rappor Bloom filter with h hashes
              --pinsets K [--pinsets-per-ping S] [--bits-per-pinset B]
                                       one whole ping: m = B*min(S,K) for epsilon_one,
                                       B*K for epsilon_inf (every pinset is eventually reported)
  tune      Optimal (f, p, q, s) for whole-ping targets, with the gain over fixed choices.
              --epsilon-one E1 --epsilon-inf EINF --pinsets K
              [--pings-per-day N [--check-fraction C] [--violation-rate R] [--org-pinsets G]]
              [--max-pinsets-per-ping S] [--bits-per-pinset B] [--f-choice most_irr_noise|least_epsilon_inf]
            Objective J = (K/s) p*(1-p*)/(q*-p*)^2 (variance factor of a rare violation rate).
            With N, projects the standard error of a pinset's violation rate assuming a fraction C
            of clients check it daily (default 0.1) and a fraction R of those see a violation
            (default 0.01); an organization is G such pinsets (default 4).
  simulate  Runs the real encoder and the estimators on a synthetic population with known rates.
              --f F --p P --q Q --pinsets K [--pinsets-per-ping S] [--clients N]
              [--check-fraction C[,C...]] [--violation-rate R[,R...]] [--seed X] [--trials T]
  demo      A short self-checking tour; exits non-zero if a check fails.

Common flags:
  --json    JSON output; infinities are the string "inf".
  --help    This text.
)";

int UsageError(const std::string& message) {
  std::cerr << "privacyctl: " << message << "\n(run privacyctl --help)\n";
  return 2;
}

int Failure(const absl::Status& status) {
  std::cerr << "privacyctl: error: " << status.message() << "\n";
  return 1;
}

std::string Num(double value, int digits = 4) {
  if (std::isnan(value)) return "-";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.*f", digits, value);
}

// PrintTable prints rows under headers with columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += absl::StrFormat(c == 0 ? "%-*s" : "  %*s", static_cast<int>(width[c]), row[c]);
    }
    std::cout << line << "\n";
  };
  print_row(headers);
  std::string rule;
  for (size_t c = 0; c < width.size(); ++c) rule += std::string(width[c] + (c ? 2 : 0), '-');
  std::cout << rule << "\n";
  for (const auto& row : rows) print_row(row);
}

absl::StatusOr<std::vector<double>> ParseList(const std::vector<std::string>& values,
                                              const char* name) {
  std::vector<double> out;
  for (const std::string& v : values) {
    double x;
    if (!absl::SimpleAtod(v, &x)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", v, "' is not a number"));
    }
    out.push_back(x);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("--", name, " is empty"));
  return out;
}

absl::StatusOr<double> SingleValue(const std::vector<std::string>& values, const char* name) {
  absl::StatusOr<std::vector<double>> list = ParseList(values, name);
  if (!list.ok()) return list.status();
  if (list->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " takes one value here"));
  }
  return (*list)[0];
}

absl::StatusOr<Params> ParamsFromFlags(int pinsets_per_ping) {
  for (const auto& [name, value] :
       {std::pair{"f", absl::GetFlag(FLAGS_f)}, std::pair{"p", absl::GetFlag(FLAGS_p)},
        std::pair{"q", absl::GetFlag(FLAGS_q)}}) {
    if (std::isnan(value))
      return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  return ParamsBuilder()
      .SetF(absl::GetFlag(FLAGS_f))
      .SetP(absl::GetFlag(FLAGS_p))
      .SetQ(absl::GetFlag(FLAGS_q))
      .SetPinsetsPerPing(pinsets_per_ping)
      .SetBitsPerPinset(absl::GetFlag(FLAGS_bits_per_pinset))
      .Build();
}

// ---------------------------------------------------------------------------------------- epsilon

int RunEpsilon() {
  const int bits = absl::GetFlag(FLAGS_bits);
  const int hashes = absl::GetFlag(FLAGS_bloom_hashes);
  const int k = absl::GetFlag(FLAGS_pinsets);
  if ((bits > 0) + (hashes > 0) + (k > 0) != 1) {
    return UsageError("epsilon needs exactly one of --bits M, --bloom-hashes H or --pinsets K");
  }
  int s = absl::GetFlag(FLAGS_pinsets_per_ping);
  if (s == 0) s = k > 0 ? k : 1;
  absl::StatusOr<Params> params = ParamsFromFlags(s);
  if (!params.ok()) return Failure(params.status());
  const double f = params->f(), p = params->p(), q = params->q();
  std::string mode;
  EpsilonPair eps;
  int reported_bits = 0;
  if (bits > 0) {
    mode = "bits";
    eps = ArbitraryBitsEpsilon(f, p, q, bits);
    reported_bits = bits;
  } else if (hashes > 0) {
    mode = "bloom";
    eps = BloomFilterEpsilon(f, p, q, hashes);
  } else {
    if (absl::Status status = params->ValidateFor(k); !status.ok()) return Failure(status);
    mode = "ping";
    eps = {params->EpsilonOne(k), params->EpsilonInf(k)};
    reported_bits = params->ReportedBits(k);
  }
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter json;
    json.BeginObject().Key("mode").String(mode);
    json.Key("f").Number(f).Key("p").Number(p).Key("q").Number(q);
    if (bits > 0) json.Key("bits").Integer(bits);
    if (hashes > 0) json.Key("bloom_hashes").Integer(hashes);
    if (k > 0) {
      json.Key("pinsets").Integer(k).Key("pinsets_per_ping").Integer(s);
      json.Key("bits_per_pinset").Integer(params->bits_per_pinset());
      json.Key("reported_bits").Integer(reported_bits);
    }
    json.Key("epsilon_one").Number(eps.epsilon_one).Key("epsilon_inf").Number(eps.epsilon_inf);
    json.Key("p_star").Number(params->PStar()).Key("q_star").Number(params->QStar());
    json.Key("epsilon_one_per_bit").Number(BitEpsilonOne(f, p, q));
    json.Key("epsilon_inf_per_bit").Number(BitEpsilonInf(f));
    json.EndObject();
    std::cout << json.str() << "\n";
    return 0;
  }
  std::string what = mode == "bits" ? absl::StrCat(bits, " arbitrary bits")
                     : mode == "bloom"
                         ? absl::StrCat("Bloom filter, ", hashes, " hashes")
                         : absl::StrCat("one ping: ", params->ReportedPinsets(k), " of K = ", k,
                                        " pinsets, ", reported_bits, " bits");
  std::cout << absl::StrFormat("f = %g, p = %g, q = %g (p* = %g, q* = %g); %s\n\n", f, p, q,
                               params->PStar(), params->QStar(), what);
  PrintTable({"quantity", "value"},
             {{"epsilon_one (one report)", Num(eps.epsilon_one)},
              {"epsilon_inf (unlimited reports, same truth)", Num(eps.epsilon_inf)},
              {"epsilon_one per bit", Num(BitEpsilonOne(f, p, q))},
              {"epsilon_inf per bit", Num(BitEpsilonInf(f))}});
  return 0;
}

// ------------------------------------------------------------------------------------------- tune

struct Row {
  std::string name;
  Params params;
  Evaluation eval;
  std::optional<RateProjection> projection;
};

absl::StatusOr<std::optional<RateProjection>> Project(const Params& params, int k,
                                                      const ProjectionAssumptions& a) {
  if (!(a.pings_per_day > 0)) return std::optional<RateProjection>();
  absl::StatusOr<RateProjection> projection = ProjectRateError(params, k, a);
  if (!projection.ok()) return projection.status();
  return std::optional<RateProjection>(*projection);
}

struct TuneReport {
  TuningTargets targets;
  ProjectionAssumptions assumptions;
  TunedParams tuned;
  std::optional<RateProjection> tuned_projection;
  std::vector<Row> baselines;
};

absl::StatusOr<TuneReport> BuildTuneReport(const TuningTargets& targets,
                                           const ProjectionAssumptions& assumptions) {
  absl::StatusOr<TunedParams> tuned = TuneParams(targets);
  if (!tuned.ok()) return tuned.status();
  absl::StatusOr<std::optional<RateProjection>> projection =
      Project(tuned->params, targets.num_pinsets, assumptions);
  if (!projection.ok()) return projection.status();
  TuneReport report{targets, assumptions, *tuned, *projection, {}};
  struct Fixed {
    const char* name;
    double f, p, q;
  };
  for (const Fixed& fixed : {Fixed{"google_rappor_defaults", 0.5, 0.5, 0.75},
                             Fixed{"chrome_normal_noise", 0.5, 0.25, 0.75}}) {
    std::vector<std::pair<std::string, int>> choices = {
        {absl::StrCat(fixed.name, "_all_pinsets"), targets.num_pinsets}};
    if (std::optional<int> s = LargestFittingSubset(fixed.f, fixed.p, fixed.q, targets);
        s.has_value() && *s != targets.num_pinsets) {
      choices.push_back({absl::StrCat(fixed.name, "_largest_fitting_subset"), *s});
    }
    for (const auto& [name, s] : choices) {
      absl::StatusOr<Params> params = ParamsBuilder()
                                          .SetF(fixed.f)
                                          .SetP(fixed.p)
                                          .SetQ(fixed.q)
                                          .SetPinsetsPerPing(s)
                                          .SetBitsPerPinset(targets.bits_per_pinset)
                                          .Build();
      if (!params.ok()) return params.status();
      absl::StatusOr<std::optional<RateProjection>> p =
          Project(*params, targets.num_pinsets, assumptions);
      if (!p.ok()) return p.status();
      report.baselines.push_back({name, *params, Evaluate(*params, targets), *p});
    }
  }
  return report;
}

void WriteProjection(JsonWriter& json, const std::optional<RateProjection>& projection) {
  if (!projection.has_value()) return;
  json.Key("reports_per_pinset").Number(projection->reports_per_pinset);
  json.Key("projected_std_error").Number(projection->pinset_std_error);
  json.Key("projected_org_std_error").Number(projection->organization_std_error);
}

void PrintTuneReport(const TuneReport& r, bool as_json) {
  const TunedParams& t = r.tuned;
  if (as_json) {
    JsonWriter json;
    json.BeginObject();
    json.Key("f").Number(t.params.f()).Key("p").Number(t.params.p()).Key("q").Number(t.params.q());
    json.Key("pinsets_per_ping").Integer(t.params.pinsets_per_ping());
    json.Key("bits_per_pinset").Integer(t.params.bits_per_pinset());
    json.Key("epsilon_one").Number(t.epsilon_one).Key("epsilon_inf").Number(t.epsilon_inf);
    json.Key("objective").Number(t.objective);
    json.Key("p_star").Number(t.params.PStar()).Key("q_star").Number(t.params.QStar());
    WriteProjection(json, r.tuned_projection);
    json.Key("targets").BeginObject();
    json.Key("epsilon_one").Number(r.targets.epsilon_one);
    json.Key("epsilon_inf").Number(r.targets.epsilon_inf);
    json.Key("pinsets").Integer(r.targets.num_pinsets);
    json.EndObject();
    if (r.tuned_projection.has_value()) {
      json.Key("assumptions").BeginObject();
      json.Key("pings_per_day").Number(r.assumptions.pings_per_day);
      json.Key("check_fraction").Number(r.assumptions.check_fraction);
      json.Key("violation_rate").Number(r.assumptions.violation_rate);
      json.Key("org_pinsets").Integer(r.assumptions.org_pinsets);
      json.EndObject();
    }
    json.Key("baselines").BeginArray();
    for (const Row& row : r.baselines) {
      json.BeginObject().Key("name").String(row.name);
      json.Key("f").Number(row.params.f()).Key("p").Number(row.params.p());
      json.Key("q").Number(row.params.q());
      json.Key("pinsets_per_ping").Integer(row.params.pinsets_per_ping());
      json.Key("epsilon_one").Number(row.eval.epsilon_one);
      json.Key("epsilon_inf").Number(row.eval.epsilon_inf);
      json.Key("objective").Number(row.eval.objective);
      json.Key("meets_targets").Bool(row.eval.meets_targets);
      json.Key("variance_ratio_to_tuned").Number(row.eval.objective / t.objective);
      WriteProjection(json, row.projection);
      json.EndObject();
    }
    json.EndArray().EndObject();
    std::cout << json.str() << "\n";
    return;
  }
  std::cout << absl::StrFormat(
      "Targets: epsilon_one <= %s, epsilon_inf <= %s per whole ping; K = %d pinsets.\n",
      Num(r.targets.epsilon_one), Num(r.targets.epsilon_inf), r.targets.num_pinsets);
  if (r.tuned_projection.has_value()) {
    std::cout << absl::StrFormat(
        "Projection: %g pings/day, check fraction %g, violation rate %g, %d pinsets per "
        "organization.\n",
        r.assumptions.pings_per_day, r.assumptions.check_fraction, r.assumptions.violation_rate,
        r.assumptions.org_pinsets);
  }
  std::cout << "\n";
  std::vector<std::string> headers = {"choice",  "f",       "p", "q",         "s",
                                      "eps_one", "eps_inf", "J", "J/J_tuned", "fits"};
  if (r.tuned_projection.has_value()) {
    headers.push_back("SE pinset");
    headers.push_back("SE org");
  }
  auto row_cells = [&](const std::string& name, const Params& params, const Evaluation& e,
                       const std::optional<RateProjection>& proj) {
    std::vector<std::string> cells = {name,
                                      Num(params.f()),
                                      Num(params.p()),
                                      Num(params.q()),
                                      absl::StrCat(params.pinsets_per_ping()),
                                      Num(e.epsilon_one),
                                      Num(e.epsilon_inf),
                                      Num(e.objective, 3),
                                      Num(e.objective / t.objective, 2),
                                      e.meets_targets ? "yes" : "no"};
    if (proj.has_value()) {
      cells.push_back(Num(proj->pinset_std_error, 5));
      cells.push_back(Num(proj->organization_std_error, 5));
    }
    return cells;
  };
  std::vector<std::vector<std::string>> rows;
  rows.push_back(row_cells("tuned", t.params, {t.objective, t.epsilon_one, t.epsilon_inf, true},
                           r.tuned_projection));
  for (const Row& row : r.baselines) {
    rows.push_back(row_cells(row.name, row.params, row.eval, row.projection));
  }
  PrintTable(headers, rows);
}

int RunTune() {
  TuningTargets targets;
  targets.epsilon_one = absl::GetFlag(FLAGS_epsilon_one);
  targets.epsilon_inf = absl::GetFlag(FLAGS_epsilon_inf);
  targets.num_pinsets = absl::GetFlag(FLAGS_pinsets);
  targets.bits_per_pinset = absl::GetFlag(FLAGS_bits_per_pinset);
  targets.max_pinsets_per_ping = absl::GetFlag(FLAGS_max_pinsets_per_ping);
  if (std::isnan(targets.epsilon_one) || std::isnan(targets.epsilon_inf) ||
      targets.num_pinsets == 0) {
    return UsageError("tune needs --epsilon-one, --epsilon-inf and --pinsets");
  }
  const std::string f_choice = absl::GetFlag(FLAGS_f_choice);
  if (f_choice == "most_irr_noise") {
    targets.f_choice = FChoice::kMostIrrNoise;
  } else if (f_choice == "least_epsilon_inf") {
    targets.f_choice = FChoice::kLeastEpsilonInf;
  } else {
    return UsageError("--f-choice must be most_irr_noise or least_epsilon_inf");
  }
  ProjectionAssumptions assumptions;
  assumptions.pings_per_day = absl::GetFlag(FLAGS_pings_per_day);
  absl::StatusOr<double> check = SingleValue(absl::GetFlag(FLAGS_check_fraction), "check-fraction");
  if (!check.ok()) return Failure(check.status());
  absl::StatusOr<double> rate = SingleValue(absl::GetFlag(FLAGS_violation_rate), "violation-rate");
  if (!rate.ok()) return Failure(rate.status());
  assumptions.check_fraction = *check;
  assumptions.violation_rate = *rate;
  assumptions.org_pinsets = absl::GetFlag(FLAGS_org_pinsets);
  absl::StatusOr<TuneReport> report = BuildTuneReport(targets, assumptions);
  if (!report.ok()) return Failure(report.status());
  PrintTuneReport(*report, absl::GetFlag(FLAGS_json));
  return 0;
}

// --------------------------------------------------------------------------------------- simulate

struct Interval {
  bool sufficient = false;
  std::string reason;
  double estimate = 0, unclamped = 0, std_error = 0, ci_low = 0, ci_high = 0;
};

Interval FromRate(const RateEstimate& r) {
  return {r.sufficient, r.reason, r.rate, r.unclamped_rate, r.std_error, r.ci_low, r.ci_high};
}

struct SimulationRun {
  std::vector<RateEstimate> pinsets;
  RateEstimate organization;
  std::vector<double> realized;  // violated / checked among the reporters' truths
  double organization_realized = 0;
  std::vector<int64_t> reports;
};

absl::StatusOr<SimulationRun> RunOnePopulation(const PopulationSpec& spec) {
  absl::StatusOr<SimulationResult> sim = SimulatePopulation(spec);
  if (!sim.ok()) return sim.status();
  SimulationRun run;
  int64_t checked = 0, violated = 0;
  for (int i = 0; i < spec.num_pinsets; ++i) {
    run.pinsets.push_back(EstimateViolationRate(sim->counts[i], spec.params));
    const PinsetCounts& truth = sim->truth[i];
    run.realized.push_back(truth.checked_ones > 0
                               ? static_cast<double>(truth.violated_ones) / truth.checked_ones
                               : kUnset);
    run.reports.push_back(sim->counts[i].reports);
    checked += truth.checked_ones;
    violated += truth.violated_ones;
  }
  run.organization = EstimateOrganizationRate(sim->counts, spec.params);
  run.organization_realized = checked > 0 ? static_cast<double>(violated) / checked : kUnset;
  return run;
}

// TruthRates returns each pinset's rate parameter and the organization's Σ c_i R_i / Σ c_i.
std::pair<std::vector<double>, double> TruthRates(const std::vector<double>& check,
                                                  const std::vector<double>& rate, int k) {
  std::vector<double> rates(k);
  double num = 0, den = 0;
  for (int i = 0; i < k; ++i) {
    const double c = check.size() == 1 ? check[0] : check[i];
    rates[i] = rate.size() == 1 ? rate[0] : rate[i];
    num += c * rates[i];
    den += c;
  }
  return {rates, den > 0 ? num / den : kUnset};
}

int RunSimulate() {
  const int k = absl::GetFlag(FLAGS_pinsets);
  if (k <= 0) return UsageError("simulate needs --pinsets K");
  int s = absl::GetFlag(FLAGS_pinsets_per_ping);
  if (s == 0) s = k;
  absl::StatusOr<Params> params = ParamsFromFlags(s);
  if (!params.ok()) return Failure(params.status());
  absl::StatusOr<std::vector<double>> check =
      ParseList(absl::GetFlag(FLAGS_check_fraction), "check-fraction");
  if (!check.ok()) return Failure(check.status());
  absl::StatusOr<std::vector<double>> rate =
      ParseList(absl::GetFlag(FLAGS_violation_rate), "violation-rate");
  if (!rate.ok()) return Failure(rate.status());
  const int trials = absl::GetFlag(FLAGS_trials);
  if (trials < 1) return UsageError("--trials must be >= 1");
  PopulationSpec spec = {.params = *params,
                         .num_pinsets = k,
                         .num_clients = absl::GetFlag(FLAGS_clients),
                         .check_fraction = *check,
                         .violation_rate = *rate,
                         .seed = absl::GetFlag(FLAGS_seed)};
  const auto [truth, org_truth] = TruthRates(*check, *rate, k);
  const bool as_json = absl::GetFlag(FLAGS_json);

  if (trials == 1) {
    absl::StatusOr<SimulationRun> run = RunOnePopulation(spec);
    if (!run.ok()) return Failure(run.status());
    struct Line {
      std::string name;
      int64_t reports;
      double truth, realized;
      Interval interval;
    };
    std::vector<Line> lines;
    int64_t total_reports = 0;
    for (int i = 0; i < k; ++i) {
      lines.push_back({absl::StrCat(i), run->reports[i], truth[i], run->realized[i],
                       FromRate(run->pinsets[i])});
      total_reports += run->reports[i];
    }
    lines.push_back({"organization", total_reports, org_truth, run->organization_realized,
                     FromRate(run->organization)});
    if (as_json) {
      JsonWriter json;
      json.BeginObject().Key("f").Number(params->f()).Key("p").Number(params->p());
      json.Key("q").Number(params->q()).Key("pinsets").Integer(k);
      json.Key("pinsets_per_ping").Integer(s).Key("clients").Integer(spec.num_clients);
      json.Key("seed").Integer(static_cast<int64_t>(spec.seed));
      json.Key("epsilon_one").Number(params->EpsilonOne(k));
      json.Key("epsilon_inf").Number(params->EpsilonInf(k));
      json.Key("rates").BeginArray();
      for (const Line& line : lines) {
        json.BeginObject().Key("scope").String(line.name);
        json.Key("reports").Integer(line.reports);
        json.Key("truth").Number(line.truth).Key("realized").Number(line.realized);
        json.Key("sufficient").Bool(line.interval.sufficient);
        if (!line.interval.sufficient) json.Key("reason").String(line.interval.reason);
        json.Key("estimate").Number(line.interval.estimate);
        json.Key("unclamped_estimate").Number(line.interval.unclamped);
        json.Key("std_error").Number(line.interval.std_error);
        json.Key("ci_low")
            .Number(line.interval.ci_low)
            .Key("ci_high")
            .Number(line.interval.ci_high);
        json.Key("covered").Bool(line.interval.sufficient && line.interval.ci_low <= line.truth &&
                                 line.truth <= line.interval.ci_high);
        json.EndObject();
      }
      json.EndArray().EndObject();
      std::cout << json.str() << "\n";
      return 0;
    }
    std::cout << absl::StrFormat(
        "%s; K = %d, %lld clients, seed %llu; epsilon_one %s, epsilon_inf %s\n\n",
        params->DebugString(), k, static_cast<long long>(spec.num_clients),
        static_cast<unsigned long long>(spec.seed), Num(params->EpsilonOne(k)),
        Num(params->EpsilonInf(k)));
    std::vector<std::vector<std::string>> rows;
    for (const Line& line : lines) {
      const Interval& iv = line.interval;
      rows.push_back(
          {line.name, absl::StrCat(line.reports), Num(line.truth), Num(line.realized),
           iv.sufficient ? Num(iv.estimate) : "insufficient: " + iv.reason,
           iv.sufficient ? Num(iv.std_error) : "-",
           iv.sufficient ? absl::StrCat("[", Num(iv.ci_low), ", ", Num(iv.ci_high), "]") : "-",
           iv.sufficient && iv.ci_low <= line.truth && line.truth <= iv.ci_high ? "yes" : "no"});
    }
    PrintTable({"pinset", "reports", "truth", "realized", "estimate", "SE", "95% CI", "covers"},
               rows);
    return 0;
  }

  // Several populations: bias, spread and coverage per scope.
  struct Summary {
    double sum = 0, sum_sq = 0, se_sum = 0;
    int covered = 0, sufficient = 0;
    void Add(const RateEstimate& e, double truth) {
      if (!e.sufficient) return;
      ++sufficient;
      sum += e.unclamped_rate;
      sum_sq += e.unclamped_rate * e.unclamped_rate;
      se_sum += e.std_error;
      covered += e.ci_low <= truth && truth <= e.ci_high;
    }
  };
  std::vector<Summary> summaries(k + 1);
  for (int t = 0; t < trials; ++t) {
    spec.seed = absl::GetFlag(FLAGS_seed) + static_cast<uint64_t>(t);
    absl::StatusOr<SimulationRun> run = RunOnePopulation(spec);
    if (!run.ok()) return Failure(run.status());
    for (int i = 0; i < k; ++i) summaries[i].Add(run->pinsets[i], truth[i]);
    summaries[k].Add(run->organization, org_truth);
  }
  JsonWriter json;
  json.BeginObject().Key("trials").Integer(trials).Key("clients").Integer(spec.num_clients);
  json.Key("summaries").BeginArray();
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i <= k; ++i) {
    const Summary& sm = summaries[i];
    const double n = sm.sufficient;
    const double mean = n > 0 ? sm.sum / n : kUnset;
    const double sd =
        n > 1 ? std::sqrt(std::max(0.0, (sm.sum_sq - n * mean * mean) / (n - 1))) : kUnset;
    const double mean_se = n > 0 ? sm.se_sum / n : kUnset;
    const double coverage = n > 0 ? sm.covered / n : kUnset;
    const std::string scope = i < k ? absl::StrCat(i) : "organization";
    const double tr = i < k ? truth[i] : org_truth;
    json.BeginObject().Key("scope").String(scope).Key("truth").Number(tr);
    json.Key("mean_estimate").Number(mean).Key("empirical_sd").Number(sd);
    json.Key("mean_std_error").Number(mean_se).Key("coverage").Number(coverage);
    json.Key("insufficient").Integer(trials - sm.sufficient).EndObject();
    rows.push_back({scope, Num(tr), Num(mean), Num(sd), Num(mean_se), Num(coverage, 3),
                    absl::StrCat(trials - sm.sufficient)});
  }
  json.EndArray().EndObject();
  if (as_json) {
    std::cout << json.str() << "\n";
  } else {
    std::cout << absl::StrFormat("%s; K = %d, %d populations of %lld clients\n\n",
                                 params->DebugString(), k, trials,
                                 static_cast<long long>(spec.num_clients));
    PrintTable(
        {"scope", "truth", "mean est.", "empirical SD", "mean SE", "95% coverage", "insufficient"},
        rows);
  }
  return 0;
}

// ------------------------------------------------------------------------------------------- demo

int RunDemo() {
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    std::cout << (ok ? "  [ok]   " : "  [FAIL] ") << what << "\n";
    if (!ok) ++failures;
  };

  std::cout << "1. Epsilon accounting reproduces google/rappor's reference figures\n"
               "   (f = 0.5, p = 0.5, q = 0.75, Bloom filter with 2 hashes).\n";
  const EpsilonPair rappor = BloomFilterEpsilon(0.5, 0.5, 0.75, 2);
  check(std::abs(rappor.epsilon_inf - 4 * std::log(3.0)) < 1e-12,
        absl::StrFormat("epsilon_inf = %.4f = 4 ln 3", rappor.epsilon_inf));
  check(std::abs(rappor.epsilon_one - 1.0743) < 5e-5,
        absl::StrFormat("epsilon_one = %.4f (reference 1.0743)", rappor.epsilon_one));

  const TuningTargets targets = {.epsilon_one = 4, .epsilon_inf = 40, .num_pinsets = 16};
  const ProjectionAssumptions assumptions = {
      .pings_per_day = 1e6, .check_fraction = 0.1, .violation_rate = 0.01, .org_pinsets = 4};
  std::cout << "\n2. Tuning for whole-ping targets vs fixed choices (privacyctl tune "
               "--epsilon-one 4 --epsilon-inf 40 --pinsets 16 --pings-per-day 1000000).\n\n";
  absl::StatusOr<TuneReport> report = BuildTuneReport(targets, assumptions);
  if (!report.ok()) return Failure(report.status());
  PrintTuneReport(*report, /*as_json=*/false);
  std::cout << "\n";
  check(report->tuned.epsilon_one <= targets.epsilon_one &&
            report->tuned.epsilon_inf <= targets.epsilon_inf,
        "tuned parameters meet both targets");
  bool beats_all = true;
  for (const Row& row : report->baselines) {
    if (row.eval.meets_targets) beats_all &= report->tuned.objective <= row.eval.objective;
  }
  check(beats_all, "tuned objective J is no larger than any fixed choice that fits");

  std::cout << "\n3. One simulated day through the real encoder and estimator (privacyctl "
               "simulate --f 0.5 --p 0.25 --q 0.75 --pinsets 4 --clients 50000 "
               "--check-fraction 0.5 --violation-rate 0.2 --seed 2024).\n\n";
  const Params chrome =
      *ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(4).Build();
  const PopulationSpec spec = {.params = chrome,
                               .num_pinsets = 4,
                               .num_clients = 50000,
                               .check_fraction = {0.5},
                               .violation_rate = {0.2},
                               .seed = 2024};
  absl::StatusOr<SimulationRun> run = RunOnePopulation(spec);
  if (!run.ok()) return Failure(run.status());
  std::vector<std::vector<std::string>> rows;
  bool within = true;
  auto add = [&](const std::string& name, const RateEstimate& e, double truth) {
    rows.push_back({name, Num(truth), Num(e.rate), Num(e.std_error),
                    absl::StrCat("[", Num(e.ci_low), ", ", Num(e.ci_high), "]")});
    within &= e.sufficient && std::abs(e.unclamped_rate - truth) <= 4 * e.std_error;
  };
  for (int i = 0; i < 4; ++i) add(absl::StrCat(i), run->pinsets[i], 0.2);
  add("organization", run->organization, 0.2);
  PrintTable({"pinset", "truth", "estimate", "SE", "95% CI"}, rows);
  std::cout << "\n";
  check(within, "every estimate is within 4 standard errors of the truth");
  check(run->organization.ci_low <= 0.2 && 0.2 <= run->organization.ci_high,
        "the organization's 95% interval contains the truth");

  std::cout << "\n" << (failures == 0 ? "demo: all checks passed" : "demo: CHECKS FAILED") << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace privacy

int main(int argc, char** argv) {
  // Accept --flag-name as --flag_name (Abseil flag names cannot contain dashes), and answer
  // --help / -h / help with the subcommand overview.
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--help" || arg == "-h" || arg == "-help" || arg == "help") {
      std::cout << privacy::kUsage;
      return 0;
    }
    if (arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      for (size_t j = 2; j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
    }
  }
  std::vector<char*> normalized;
  for (std::string& arg : args) normalized.push_back(arg.data());
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(normalized.size()), normalized.data());
  if (positional.size() < 2) return privacy::UsageError("missing command");
  if (positional.size() > 2) {
    return privacy::UsageError(absl::StrCat("unexpected argument '", positional[2], "'"));
  }
  const std::string command = positional[1];
  if (command == "epsilon") return privacy::RunEpsilon();
  if (command == "tune") return privacy::RunTune();
  if (command == "simulate") return privacy::RunSimulate();
  if (command == "demo") return privacy::RunDemo();
  return privacy::UsageError(absl::StrCat("unknown command '", command, "'"));
}
