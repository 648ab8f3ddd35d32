// catalog_tool: builds a pin catalog from pin lists and prints it, with every unresolved name.
//
// Sources (any combination; the default catalog when none is given):
//   --chromium_json=... --chromium_pins=...   Chromium's static pins .json and .pins
//   --firefox_json=...                        Firefox's PreloadedHPKPins.json (names resolved in
//                                             the system CA store)
//   --default_catalog_dir=client/data         the product's default catalog
// Options: --organizations (the organization map; default:
// <default_catalog_dir>/organizations.json),
// --unresolved=strict|skip_pinset|drop_name, --ca_bundle, --ca_nickname_dir,
// --output=FILE (the binary pinning.v1.Catalog), --measure_checks=N (times N pin checks).
//
//   P=$PWD/../shared/data/pinlists/chromium
//   bazel run //client:catalog_tool -- --unresolved=skip_pinset
//       --chromium_json=$P/transport_security_state_static_pins.json
//       --chromium_pins=$P/transport_security_state_static.pins
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/ca_store.h"
#include "client/catalog.h"
#include "client/catalog_loader.h"
#include "client/file_io.h"
#include "client/pin_checker.h"
#include "client/spki.h"
#include "third_party/absl_compat/status_macros.h"

ABSL_FLAG(std::string, chromium_json, "", "Chromium transport_security_state_static_pins.json");
ABSL_FLAG(std::string, chromium_pins, "", "Chromium transport_security_state_static.pins");
ABSL_FLAG(std::string, firefox_json, "", "Firefox PreloadedHPKPins.json");
ABSL_FLAG(std::string, default_catalog_dir, "client/data",
          "Directory of default_catalog.json, default_catalog.pins and organizations.json");
ABSL_FLAG(std::string, organizations, "", "Organization map (default: in default_catalog_dir)");
ABSL_FLAG(std::string, unresolved, "strict",
          "What to do with unresolvable SPKI names: strict, skip_pinset or drop_name");
ABSL_FLAG(std::string, ca_bundle, "/etc/ssl/certs/ca-certificates.crt", "Trusted CA bundle");
ABSL_FLAG(std::string, ca_nickname_dir, "/etc/ssl/certs",
          "Directory of per-root files named after Mozilla nicknames (empty: subjects only)");
ABSL_FLAG(std::string, output, "", "Write the catalog (binary pinning.v1.Catalog) here");
ABSL_FLAG(int, measure_checks, 0, "Time this many pin checks over the catalog's hosts");

namespace pinning::client {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

absl::StatusOr<UnresolvedPolicy> ParsePolicy(const std::string& name) {
  if (name == "strict") return UnresolvedPolicy::kStrict;
  if (name == "skip_pinset") return UnresolvedPolicy::kSkipPinset;
  if (name == "drop_name") return UnresolvedPolicy::kDropName;
  return absl::InvalidArgumentError(absl::StrCat("unknown --unresolved=", name));
}

void PrintList(const PinList& list) {
  for (const std::string& w : list.warnings) std::printf("warning: %s\n", w.c_str());
}

absl::Status MeasureChecks(const pinning::v1::Catalog& catalog, int n) {
  ASSIGN_OR_RETURN(PinChecker checker, PinChecker::Create(catalog));
  // Chains of three SPKIs, one of them pinned for the host; hosts are subdomains of entries.
  std::vector<std::string> hosts;
  for (const auto& h : catalog.hosts()) hosts.push_back(absl::StrCat("www.", h.host()));
  SpkiHash other{};
  other.fill(0x5a);
  int violated = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string& host = hosts[i % hosts.size()];
    const uint32_t pinset = catalog.hosts(i % hosts.size()).pinset_index();
    SpkiHash pinned = *SpkiHashFromBytes(catalog.pinsets(pinset).spki_sha256(0));
    const SpkiHash chain[] = {other, other, i % 100 == 0 ? other : pinned};
    violated += checker.CheckHashes(host, chain).violated();
  }
  const double seconds = SecondsSince(start);
  std::printf("%d pin checks (host lookup + 3 SPKI hashes) in %.3f s: %.0f checks/s, %d violated\n",
              n, seconds, n / seconds, violated);
  return absl::OkStatus();
}

absl::Status Run() {
  ASSIGN_OR_RETURN(UnresolvedPolicy policy, ParsePolicy(absl::GetFlag(FLAGS_unresolved)));
  const std::string data_dir = absl::GetFlag(FLAGS_default_catalog_dir);
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(CaStore store,
                   CaStore::Load({.bundle_path = absl::GetFlag(FLAGS_ca_bundle),
                                  .nickname_dir = absl::GetFlag(FLAGS_ca_nickname_dir)}));
  std::printf("CA store: %zu certificates (%.3f s)\n", store.certificates().size(),
              SecondsSince(start));

  BuiltCatalog built;
  const auto build_start = std::chrono::steady_clock::now();
  if (absl::GetFlag(FLAGS_chromium_json).empty() && absl::GetFlag(FLAGS_firefox_json).empty()) {
    ASSIGN_OR_RETURN(built, LoadDefaultCatalog(data_dir, store, policy));
  } else {
    std::vector<PinList> lists;
    if (!absl::GetFlag(FLAGS_chromium_json).empty()) {
      ASSIGN_OR_RETURN(PinList list,
                       LoadChromiumPinList(absl::GetFlag(FLAGS_chromium_json),
                                           absl::GetFlag(FLAGS_chromium_pins), policy));
      PrintList(list);
      lists.push_back(std::move(list));
    }
    if (!absl::GetFlag(FLAGS_firefox_json).empty()) {
      ASSIGN_OR_RETURN(PinList list,
                       LoadFirefoxPinList(absl::GetFlag(FLAGS_firefox_json), store, policy));
      PrintList(list);
      lists.push_back(std::move(list));
    }
    ASSIGN_OR_RETURN(PinList merged, MergePinLists(std::move(lists)));
    std::string orgs_path = absl::GetFlag(FLAGS_organizations);
    if (orgs_path.empty()) orgs_path = absl::StrCat(data_dir, "/organizations.json");
    ASSIGN_OR_RETURN(OrganizationMap orgs, LoadOrganizationMap(orgs_path));
    ASSIGN_OR_RETURN(built, BuildCatalog(merged, orgs));
  }
  const double build_seconds = SecondsSince(build_start);

  const pinning::v1::Catalog& c = built.catalog;
  std::printf("catalog %s\nsource: %s\nK = %d pinsets, %d hosts (built in %.3f s)\n",
              c.version().c_str(), c.source().c_str(), c.pinsets_size(), c.hosts_size(),
              build_seconds);
  std::map<uint32_t, int> hosts_per_pinset;
  for (const auto& h : c.hosts()) ++hosts_per_pinset[h.pinset_index()];
  for (const auto& p : c.pinsets()) {
    std::printf("  [%u] %-18s %-12s %-7s %2d SPKIs %d bad %4d hosts\n", p.index(), p.name().c_str(),
                p.organization().c_str(),
                p.mode() == pinning::v1::PIN_MODE_TEST ? "test" : "enforce", p.spki_sha256_size(),
                p.bad_spki_sha256_size(), hosts_per_pinset[p.index()]);
  }
  for (const std::string& name : built.unused_pinsets) {
    std::printf("unused pinset left out: %s\n", name.c_str());
  }
  if (!absl::GetFlag(FLAGS_output).empty()) {
    RETURN_IF_ERROR(
        WriteFileAtomically(absl::GetFlag(FLAGS_output), c.SerializeAsString(), {.mode = 0644}));
    std::printf("wrote %s\n", absl::GetFlag(FLAGS_output).c_str());
  }
  if (absl::GetFlag(FLAGS_measure_checks) > 0) {
    RETURN_IF_ERROR(MeasureChecks(c, absl::GetFlag(FLAGS_measure_checks)));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace pinning::client

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::Status status = pinning::client::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "catalog_tool: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
