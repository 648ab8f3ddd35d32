// pinsim: simulates a population of browsers against a running aggregatord and checks that the
// decoded violation rates cover the simulated truth (a self-checking demo; see simulator.h).
//
//   pinsim --server=localhost:8443 --ca_file=dev-certs/ca.pem --token_file=admin.token
//          [--browsers=20000] [--days=7] [--transport=submit|batch] [--json]
//
// The token needs the privacy-admin role (pinsim publishes the catalog, parameters and a rollout
// event, and reads Query.Rates). Parameters: --f/--p/--q/--s, or --target_epsilon_one and
// --target_epsilon_inf to let privacy's tuner choose them. The aggregator must accept pings for
// the last --days days (aggregatord --max_age_days).
//
// Exit status: 0 when the interval coverage is plausible, 1 when it is not or on an error,
// 2 on bad usage.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/catalog_loader.h"
#include "client/sim/aggregator_client.h"
#include "client/sim/report.h"
#include "client/sim/scenario.h"
#include "client/sim/simulator.h"
#include "client/upload/grpc_ingest_transport.h"
#include "privacy/tuner.h"

ABSL_FLAG(std::string, server, "localhost:8443", "aggregatord address, host:port");
ABSL_FLAG(std::string, ca_file, "", "PEM file of the CA of the server certificate");
ABSL_FLAG(bool, insecure, false, "plaintext gRPC (tests and development only)");
ABSL_FLAG(std::string, token_file, "",
          "file whose first line is a privacy-admin bearer token (else $PINSIM_TOKEN)");
ABSL_FLAG(int, browsers, 20000, "simulated browsers");
ABSL_FLAG(int, days, 7, "simulated UTC days, ending yesterday");
ABSL_FLAG(uint64_t, seed, 1, "seed of the population (secrets, visits, noise)");
ABSL_FLAG(int, threads, 32, "worker threads (mostly waiting for acknowledgements)");
ABSL_FLAG(std::string, transport, "submit",
          "submit: each browser sends Ingest.Submit; batch: a relay forwards with SubmitBatch");
ABSL_FLAG(std::string, data_dir, "",
          "directory of the default catalog (default_catalog.json, .pins, organizations.json); "
          "default: client/data, or the copy next to the binary");
ABSL_FLAG(double, f, 0.7, "PRR f of the published parameters");
ABSL_FLAG(double, p, 0.25, "IRR p of the published parameters");
ABSL_FLAG(double, q, 0.75, "IRR q of the published parameters");
ABSL_FLAG(int, s, 0, "pinsets per ping (0: all)");
ABSL_FLAG(double, target_epsilon_one, NAN,
          "with --target_epsilon_inf: tune (f, p, q, s) for these whole-ping epsilons instead");
ABSL_FLAG(double, target_epsilon_inf, NAN, "see --target_epsilon_one");
ABSL_FLAG(double, budget, INFINITY, "lifetime privacy-loss budget of each browser");
ABSL_FLAG(std::vector<std::string>, traffic, {},
          "ORGANIZATION=VISIT:RATE overrides, comma-separated (e.g. Google=0.9:0.01)");
ABSL_FLAG(std::string, spike, "",
          "ORGANIZATION:DAY:RATE violation spike (default: Facebook, day days-2, 30%); 'none'");
ABSL_FLAG(std::string, rotation, "",
          "PINSET:DAY pin rotation (default: dropbox, day days/2); 'none'");
ABSL_FLAG(bool, cells_by_product, false, "one cell per organization, day and product");
ABSL_FLAG(bool, allow_existing_pings, false,
          "run even if the aggregator already counts pings for these days (estimates then mix "
          "runs and the coverage check is void)");
ABSL_FLAG(std::string, store_dir, "",
          "keep each browser's state in a client store file in this (empty) directory instead of "
          "memory");
ABSL_FLAG(bool, parse_chains, false,
          "parse and hash every connection's DER chain (about 1 ms per check with OpenSSL 3) "
          "instead of hashing each distinct chain once");
ABSL_FLAG(bool, json, false, "print JSON instead of the table");
ABSL_FLAG(bool, progress, true, "print progress to stderr");

namespace {

using pinning::client::sim::SimulatorOptions;

constexpr int kUsage = 2;

std::string DefaultDataDir(const char* argv0) {
  if (std::filesystem::exists("client/data/default_catalog.json")) return "client/data";
  std::string runfiles = absl::StrCat(argv0, ".runfiles/pinning_telemetry/client/data");
  if (std::filesystem::exists(runfiles + "/default_catalog.json")) return runfiles;
  return "client/data";
}

absl::Status ParseIncidents(pinning::client::sim::Scenario& scenario) {
  if (const std::string spike = absl::GetFlag(FLAGS_spike); spike == "none") {
    scenario.spike.reset();
  } else if (!spike.empty()) {
    std::vector<std::string> parts = absl::StrSplit(spike, ':');
    int day = 0;
    double rate = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &day) ||
        !absl::SimpleAtod(parts[2], &rate)) {
      return absl::InvalidArgumentError("--spike is ORGANIZATION:DAY:RATE");
    }
    scenario.spike = pinning::client::sim::Spike{parts[0], day, rate};
  }
  if (const std::string rotation = absl::GetFlag(FLAGS_rotation); rotation == "none") {
    scenario.rotation.reset();
  } else if (!rotation.empty()) {
    std::vector<std::string> parts = absl::StrSplit(rotation, ':');
    int day = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &day)) {
      return absl::InvalidArgumentError("--rotation is PINSET:DAY");
    }
    scenario.rotation = pinning::client::sim::Rotation{parts[0], day};
  }
  for (const std::string& spec : absl::GetFlag(FLAGS_traffic)) {
    if (absl::Status s = ApplyTrafficOverride(spec, scenario); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<pinning::v1::RandomizationParams> ChooseParams(int num_pinsets) {
  pinning::v1::RandomizationParams params;
  params.set_bits_per_pinset(2);
  const double e1 = absl::GetFlag(FLAGS_target_epsilon_one);
  const double einf = absl::GetFlag(FLAGS_target_epsilon_inf);
  if (std::isnan(e1) != std::isnan(einf)) {
    return absl::InvalidArgumentError(
        "give both --target_epsilon_one and --target_epsilon_inf, or neither");
  }
  if (!std::isnan(e1)) {
    absl::StatusOr<privacy::TunedParams> tuned =
        privacy::TuneParams({.epsilon_one = e1, .epsilon_inf = einf, .num_pinsets = num_pinsets});
    if (!tuned.ok()) return tuned.status();
    params.set_f(tuned->params.f());
    params.set_p(tuned->params.p());
    params.set_q(tuned->params.q());
    params.set_pinsets_per_ping(static_cast<uint32_t>(tuned->params.pinsets_per_ping()));
    return params;
  }
  params.set_f(absl::GetFlag(FLAGS_f));
  params.set_p(absl::GetFlag(FLAGS_p));
  params.set_q(absl::GetFlag(FLAGS_q));
  const int s = absl::GetFlag(FLAGS_s);
  params.set_pinsets_per_ping(static_cast<uint32_t>(s <= 0 ? num_pinsets : s));
  return params;
}

int Fail(const absl::Status& status) {
  std::cerr << "pinsim: " << status << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "pinsim: simulates browsers against aggregatord and checks the decoded rates.\n"
      "Usage: pinsim --server=H:P (--ca_file=F | --insecure) --token_file=F [flags]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "pinsim: unexpected argument '" << rest[1] << "'\n";
    return kUsage;
  }
  const std::string transport_flag = absl::GetFlag(FLAGS_transport);
  if (transport_flag != "submit" && transport_flag != "batch") {
    std::cerr << "pinsim: --transport must be submit or batch\n";
    return kUsage;
  }
  std::string token;
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    absl::StatusOr<std::string> read = pinning::client::sim::ReadTokenFile(path);
    if (!read.ok()) return Fail(read.status());
    token = *read;
  } else if (const char* env = std::getenv("PINSIM_TOKEN"); env != nullptr) {
    token = env;
  }
  if (token.empty()) {
    std::cerr << "pinsim: no token: set --token_file or PINSIM_TOKEN (privacy-admin role)\n";
    return kUsage;
  }

  // The product's default catalog, resolved against this machine's CA store.
  absl::StatusOr<pinning::client::CaStore> store =
      pinning::client::CaStore::Load(pinning::client::CaStore::Options());
  if (!store.ok()) return Fail(store.status());
  std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) data_dir = DefaultDataDir(argv[0]);
  absl::StatusOr<pinning::client::BuiltCatalog> built = pinning::client::LoadDefaultCatalog(
      data_dir, *store, pinning::client::UnresolvedPolicy::kStrict);
  if (!built.ok()) return Fail(built.status());
  const pinning::v1::Catalog& catalog = built->catalog;

  SimulatorOptions options;
  options.browsers = absl::GetFlag(FLAGS_browsers);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.use_submit_batch = transport_flag == "batch";
  options.cells_by_product = absl::GetFlag(FLAGS_cells_by_product);
  options.allow_existing_pings = absl::GetFlag(FLAGS_allow_existing_pings);
  options.store_dir = absl::GetFlag(FLAGS_store_dir);
  options.hash_chains_once = !absl::GetFlag(FLAGS_parse_chains);
  options.uploader.epsilon_budget = absl::GetFlag(FLAGS_budget);
  absl::StatusOr<pinning::client::sim::Scenario> scenario =
      pinning::client::sim::DefaultScenario(catalog, absl::GetFlag(FLAGS_days));
  if (!scenario.ok()) return Fail(scenario.status());
  if (absl::Status s = ParseIncidents(*scenario); !s.ok()) {
    std::cerr << "pinsim: " << s.message() << "\n";
    return kUsage;
  }
  options.scenario = *std::move(scenario);
  absl::StatusOr<pinning::v1::RandomizationParams> params = ChooseParams(catalog.pinsets_size());
  if (!params.ok()) return Fail(params.status());
  options.params = *params;
  if (absl::GetFlag(FLAGS_progress)) {
    options.progress = [](const pinning::client::sim::SimProgress& p) {
      std::cerr << absl::StrFormat(
          "pinsim: %s %d/%d: %d/%d browsers, %d pings acknowledged, %s elapsed\n",
          p.day < p.days ? "day" : "sending the last day,", std::min(p.day + 1, p.days), p.days,
          p.browsers_done, p.browsers, p.pings_acknowledged,
          absl::FormatDuration(absl::Trunc(p.elapsed, absl::Seconds(1))));
    };
  }

  pinning::client::GrpcTransportOptions transport_options;
  transport_options.target = absl::GetFlag(FLAGS_server);
  transport_options.ca_file = absl::GetFlag(FLAGS_ca_file);
  transport_options.insecure = absl::GetFlag(FLAGS_insecure);
  absl::StatusOr<std::unique_ptr<pinning::client::GrpcIngestTransport>> transport =
      pinning::client::GrpcIngestTransport::Create(transport_options);
  if (!transport.ok()) return Fail(transport.status());
  pinning::client::sim::AggregatorClientOptions admin_options;
  admin_options.target = transport_options.target;
  admin_options.ca_file = transport_options.ca_file;
  admin_options.insecure = transport_options.insecure;
  admin_options.token = token;
  absl::StatusOr<std::unique_ptr<pinning::client::sim::GrpcAggregatorClient>> admin =
      pinning::client::sim::GrpcAggregatorClient::Create(admin_options);
  if (!admin.ok()) return Fail(admin.status());

  if (absl::GetFlag(FLAGS_progress)) {
    std::cerr << absl::StrFormat(
        "pinsim: %d browsers, %d days, catalog %s (%d pinsets), f=%g p=%g q=%g s=%d, %s\n",
        options.browsers, options.scenario.days, catalog.version().substr(0, 12),
        catalog.pinsets_size(), options.params.f(), options.params.p(), options.params.q(),
        options.params.pinsets_per_ping(),
        options.use_submit_batch ? "relay with SubmitBatch" : "Submit per ping");
  }
  absl::StatusOr<pinning::client::sim::SimReport> report =
      pinning::client::sim::RunSimulation(options, catalog, **transport, **admin);
  if (!report.ok()) return Fail(report.status());
  if (absl::GetFlag(FLAGS_json)) {
    pinning::client::sim::PrintJson(*report, std::cout);
  } else {
    pinning::client::sim::PrintTable(*report, std::cout);
  }
  return report->coverage.too_few_covered ? 1 : 0;
}
