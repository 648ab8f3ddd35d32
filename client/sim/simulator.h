// simulator.h: a population of browsers with known ground truth, sending real pings to a real
// aggregator, and the check that the decoded rates cover the truth.
//
// RunSimulation:
//  1. builds one real chain per pinset (under a root of the system CA store that the pinset
//     pins) and one intercepting chain (chains.h);
//  2. publishes the catalog and the parameters through Admin (aggregator_client.h);
//  3. creates `browsers` ClientProfiles (client/upload/client_profile.h), each with its own
//     secret and in-memory store, and its dimensions (product, channel, major version);
//  4. for each day: every browser runs its daily maintenance (fetches the parameters with
//     Params.Get, encodes yesterday's state into one ping, uploads its pending pings through the
//     Uploader: Ingest.Submit, or with `use_submit_batch` through a relay that forwards
//     everything with SubmitBatch), then visits pinned hosts as the Scenario says and checks each
//     chain with the real PinChecker; the truth is tallied from the checker's verdicts. The
//     scenario's rotation is published on its day (Admin.PublishCatalog, PublishParams and a
//     RecordEvent rollout event);
//  5. after the last day's pings are acknowledged, reads Query.Rates per organization and day
//     (and per product with `cells_by_product`) and compares each 95% interval with the truth:
//     the fraction of browsers that checked the organization and saw a violation, among those
//     that checked (summed over the organization's pinsets, as the estimator sums them);
//  6. judges the number of covering intervals (coverage.h).
//
// Randomness: every browser's secret, dimensions, visits and IRR noise come from generators
// seeded with (seed, browser, day), so a run is reproducible and independent of the number of
// threads; ping ids come from OpenSSL's CSPRNG, as in a real browser (two runs against the same
// aggregator never collide).
//
// Days: the run covers the `days` UTC days before `today`; browsers live on a simulated clock
// (noon of each day), the aggregator on the real one, so the run must fit in its accepted window
// (aggregatord --max_age_days >= days).
//
//   SimulatorOptions options;
//   options.browsers = 20000;
//   ASSIGN_OR_RETURN(SimReport report, RunSimulation(options, catalog, *transport, *admin));
//   PrintTable(report, std::cout);
//
// Thread safety: RunSimulation uses `threads` worker threads; the transport and admin client must
// be thread-safe (the gRPC ones are).
#ifndef CLIENT_SIM_SIMULATOR_H_
#define CLIENT_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "client/sim/aggregator_client.h"
#include "client/sim/chains.h"
#include "client/sim/coverage.h"
#include "client/sim/scenario.h"
#include "client/upload/ingest_transport.h"
#include "client/upload/uploader.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"
#include "proto/query.pb.h"

namespace pinning::client::sim {

struct SimProgress {
  int day = 0;  // 0-based; == days while the last pings are sent
  int days = 0;
  int64_t browsers_done = 0;  // browsers done with `day`
  int64_t browsers = 0;
  uint64_t pings_acknowledged = 0;
  absl::Duration elapsed;
};

struct SimulatorOptions {
  int browsers = 20000;
  Scenario scenario;  // scenario.days is the number of days
  // The day after the last simulated day (default: today, UTC).
  absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  uint64_t seed = 1;
  // Worker threads; mostly waiting for acknowledgements (group commit), so more than cores.
  int threads = 32;
  // Parameters published for the catalog (and again for the rotated catalog).
  v1::RandomizationParams params;
  // Upload through a relay with SubmitBatch instead of one Submit per ping.
  bool use_submit_batch = false;
  UploaderOptions uploader;
  size_t max_pending_pings = 32;
  std::string ca_bundle = kSystemCaBundle;
  // Check each connection's chain by its SPKI hashes, computed once per distinct chain
  // (PinChecker::CheckHashes), instead of parsing the DER chain on every check (about 1 ms per
  // chain with OpenSSL 3). The pin checker decides either way.
  bool hash_chains_once = true;
  // Serve the browsers' daily Params.Get from a cache in front of the aggregator (one real call
  // per thread, day and known catalog version), as a CDN would; false: every browser calls.
  bool share_params_fetch = true;
  // Keep each browser's state in a client store file (client/client_store.h) in this directory
  // instead of in memory; measures the disk footprint too.
  std::string store_dir;
  // Run even when the aggregator already counts pings for the simulated days (their estimates
  // would then mix this run with earlier ones, and the comparison with this run's truth is void).
  bool allow_existing_pings = false;
  // Evaluate one cell per (organization, day, product) instead of per (organization, day): more,
  // smaller, still independent cells (the products partition the browsers).
  bool cells_by_product = false;
  // Called about every `progress_interval` from a reporting thread.
  std::function<void(const SimProgress&)> progress;
  absl::Duration progress_interval = absl::Seconds(2);
};

// SimCell is one (organization, day[, product]) comparison.
struct SimCell {
  std::string organization;
  std::string day;       // "YYYY-MM-DD"
  std::string product;   // empty: all products
  int64_t checked = 0;   // browsers that checked the organization's pins that day
  int64_t violated = 0;  // of which saw at least one violation
  double true_rate = 0;
  v1::RatePoint estimate;
  bool covered = false;
};

struct SimReport {
  std::vector<SimCell> cells;  // every cell with checked > 0, organization-major
  int64_t insufficient = 0;    // cells whose estimate was insufficient (not covered)
  CoverageCheck coverage;      // over the cells (insufficient ones count as not covered)
  double prr_correlation = 0;
  // Published versions.
  uint32_t params_version = 0;
  std::string catalog_version;
  uint32_t rotated_params_version = 0;
  std::string rotated_catalog_version;
  std::vector<std::string> events;  // rollout events recorded, for the report
  std::vector<std::string> notes;   // chains used and other facts, for the report
  // Client-side totals.
  UploadStats upload;
  uint64_t pings_encoded = 0;
  uint64_t days_over_budget = 0;
  uint64_t days_without_params = 0;
  uint64_t dropped_overflow = 0;
  int64_t browsers = 0;
  double bytes_per_browser = 0;        // resident memory growth per simulated browser
  double store_bytes_per_browser = 0;  // with store_dir: store file (+ backup) bytes per browser
  uint64_t params_calls = 0;           // Params.Get calls that reached the aggregator
  absl::Duration elapsed;
  double epsilon_one = 0;
  double epsilon_inf = 0;
  double lifetime_epsilon_max = 0;  // largest ledger total of any browser
};

// RunSimulation runs the simulation described in the file comment against an aggregator reached
// through `transport` (Ingest, Params) and `admin` (Admin, Query). `catalog` is the catalog to
// publish (e.g. the product's default catalog). Errors: INVALID_ARGUMENT for bad options;
// FAILED_PRECONDITION when the aggregator already counts pings for the simulated days (unless
// allow_existing_pings); the first error of a publication or query. Upload failures are counted,
// not errors.
absl::StatusOr<SimReport> RunSimulation(const SimulatorOptions& options, const v1::Catalog& catalog,
                                        IngestTransport& transport, AggregatorAdmin& admin);

}  // namespace pinning::client::sim

#endif  // CLIENT_SIM_SIMULATOR_H_
