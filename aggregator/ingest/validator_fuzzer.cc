// Fuzz target: ping validation, the aggregator's boundary with the internet. The input is a
// serialized pinning.v1.Ping (what a client sends inside SubmitRequest). Any input must be
// accepted or refused with a reason, never crash; an accepted ping must fit its parameters exactly
// (DESIGN §7): as many bits as reported pinsets x bits per pinset, rounded up to whole bytes, and
// pinset indices inside the catalog.
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aggregator/ingest/validator.h"
#include "aggregator/ingest/version_lookup.h"
#include "aggregator/metrics/metrics.h"
#include "proto/ping.pb.h"
#include "tools/fuzzing/fuzz_target.h"

namespace {

using pinning::aggregator::MetricsRegistry;
using pinning::aggregator::Validator;
using pinning::aggregator::ValidatorOptions;
using pinning::aggregator::FixedVersionLookup;

constexpr char kCatAll[] = "cat-all";  // K = 4, params 1 report all pinsets, 2 bits each
constexpr char kCatSub[] = "cat-sub";  // K = 10, params 2 report 3 pinsets, 2 bits each
constexpr int kCatalogSize[] = {0, 4, 10};

struct Fixture {
  Fixture() {
    lookup.AddCatalog(kCatAll, 4);
    lookup.AddCatalog(kCatSub, 10);
    lookup.AddParams({1, kCatAll, 4, 2});
    lookup.AddParams({2, kCatSub, 3, 2});
    ValidatorOptions options;
    options.now = [] {
      return absl::FromCivil(absl::CivilSecond(2024, 3, 10, 12, 0, 0), absl::UTCTimeZone());
    };
    options.window = {/*max_future_days=*/1, /*max_age_days=*/7, /*retention_days=*/8};
    auto created = Validator::Create(options, &lookup, &metrics);
    if (!created.ok()) std::abort();
    validator = std::move(*created);
  }
  FixedVersionLookup lookup;
  MetricsRegistry metrics;
  std::unique_ptr<Validator> validator;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  pinning::v1::Ping ping;
  if (!ping.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<pinning::aggregator::ValidPingInfo> info = fixture->validator->Validate(ping);
  if (!info.ok()) return 0;
  const uint32_t version = ping.params_version();
  if (version != 1 && version != 2) std::abort();
  if (info->num_pinsets != static_cast<uint32_t>(kCatalogSize[version])) std::abort();
  // A ping lists the pinsets it reports, or lists none when it reports all K.
  const size_t reported =
      ping.pinset_indices_size() > 0 ? ping.pinset_indices_size() : info->num_pinsets;
  const size_t bits = reported * info->bits_per_pinset;
  if (ping.bits().size() != (bits + 7) / 8) std::abort();
  for (uint32_t index : ping.pinset_indices()) {
    if (index >= static_cast<uint32_t>(kCatalogSize[version])) std::abort();
  }
  return 0;
}

std::vector<std::string> pinning::fuzzing::FuzzerSeeds() {
  pinning::v1::Ping all;
  all.set_ping_id(std::string(16, 'p'));
  all.set_day("2024-03-10");
  all.set_params_version(1);
  all.set_catalog_version(kCatAll);
  all.set_bits(std::string("\x5a", 1));
  all.mutable_dimensions()->set_product("chrome");
  all.mutable_dimensions()->set_channel("stable");
  all.mutable_dimensions()->set_major_version(122);
  pinning::v1::Ping subset = all;
  subset.set_params_version(2);
  subset.set_catalog_version(kCatSub);
  subset.add_pinset_indices(1);
  subset.add_pinset_indices(5);
  subset.add_pinset_indices(9);
  subset.set_bits(std::string("\x3f", 1));
  return {all.SerializeAsString(), subset.SerializeAsString()};
}
