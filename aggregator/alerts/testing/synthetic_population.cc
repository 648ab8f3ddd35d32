#include "aggregator/alerts/testing/synthetic_population.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "aggregator/registry/catalog_version.h"
#include "openssl/sha.h"
#include "privacy/params.h"
#include "privacy/report_bits.h"

namespace pinning::aggregator::testing {
namespace {

// Fictional organizations for demos and tests.
constexpr std::array<const char*, 50> kOrganizationNames = {
    "Acorn Bank",      "Bluefin Mail",     "Cedar Cloud",    "Delta Search",   "Ember Social",
    "Fjord Payments",  "Granite Health",   "Harbor News",    "Iris Video",     "Juniper Retail",
    "Kestrel Travel",  "Lumen Office",     "Maple Games",    "Nimbus Storage", "Orchid Dating",
    "Pioneer Auto",    "Quartz Insurance", "Raven Chat",     "Sierra Maps",    "Tundra Energy",
    "Umbra Security",  "Vesta Homes",      "Willow Books",   "Xenon Telecom",  "Yarrow Foods",
    "Zephyr Airlines", "Aurora Music",     "Basalt Crypto",  "Comet Courier",  "Dune Weather",
    "Echo Podcasts",   "Falcon Tickets",   "Glacier Bank",   "Helix Labs",     "Indigo Fashion",
    "Jade Markets",    "Koala Kids",       "Lotus Wellness", "Meridian Govt",  "Nova University",
    "Onyx Legal",      "Prism Design",     "Quill Writing",  "Redwood Realty", "Saffron Recipes",
    "Tidal Shipping",  "Union Transit",    "Vortex Sports",  "Wren Photos",    "Yonder Jobs",
};

absl::Status CheckFraction(absl::string_view what, double value, bool allow_zero) {
  if (!(value <= 1.0) || !(allow_zero ? value >= 0.0 : value > 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " = ", value, " is out of range"));
  }
  return absl::OkStatus();
}

std::string FakeSpki(absl::string_view name) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

}  // namespace

v1::RandomizationParams DefaultParams() {
  v1::RandomizationParams params;
  params.set_f(0.25);
  params.set_p(0.25);
  params.set_q(0.75);
  params.set_pinsets_per_ping(0);
  params.set_bits_per_pinset(privacy::kDefaultBitsPerPinset);
  return params;
}

std::string Slug(absl::string_view organization) {
  std::string slug;
  for (char c : organization) {
    slug.push_back(c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return slug;
}

std::vector<OrganizationSpec> DefaultOrganizations(int n) {
  std::vector<OrganizationSpec> organizations;
  n = std::clamp(n, 0, static_cast<int>(kOrganizationNames.size()));
  for (int i = 0; i < n; ++i) {
    OrganizationSpec org;
    org.name = kOrganizationNames[i];
    org.pinsets = 1 + (i % 3 == 0 ? 1 : 0);
    org.check_fraction = 0.3 + 0.6 * ((i * 7) % 11) / 10.0;
    org.violation_rate = 0.005 + 0.035 * ((i * 5) % 13) / 12.0;
    org.mode = i % 4 == 0 ? v1::PIN_MODE_ENFORCE : v1::PIN_MODE_TEST;
    organizations.push_back(std::move(org));
  }
  return organizations;
}

SyntheticPopulation::SyntheticPopulation(PopulationSpec spec, v1::Catalog catalog,
                                         v1::RandomizationParams params, uint64_t seed)
    : spec_(std::move(spec)),
      catalog_(std::move(catalog)),
      params_(std::move(params)),
      truth_source_(seed),
      irr_source_(seed ^ 0x9e3779b97f4a7c15ULL),
      id_source_(seed ^ 0x5851f42d4c957f2dULL) {}

absl::StatusOr<std::unique_ptr<SyntheticPopulation>> SyntheticPopulation::Create(
    PopulationSpec spec) {
  if (spec.organizations.empty()) return absl::InvalidArgumentError("no organizations");
  if (spec.clients < 1) return absl::InvalidArgumentError("clients must be >= 1");
  absl::flat_hash_map<std::string, int> org_index;
  v1::Catalog catalog;
  std::vector<int> pinset_org;
  for (size_t o = 0; o < spec.organizations.size(); ++o) {
    const OrganizationSpec& org = spec.organizations[o];
    if (org.name.empty() || !org_index.emplace(org.name, o).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("organization name '", org.name, "' is empty or repeated"));
    }
    if (org.pinsets < 1) return absl::InvalidArgumentError(org.name + ": pinsets must be >= 1");
    if (absl::Status s = CheckFraction(org.name + " check_fraction", org.check_fraction, false);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckFraction(org.name + " violation_rate", org.violation_rate, true);
        !s.ok()) {
      return s;
    }
    for (int j = 0; j < org.pinsets; ++j) {
      v1::Pinset* pinset = catalog.add_pinsets();
      pinset->set_index(catalog.pinsets_size() - 1);
      pinset->set_name(j == 0 ? Slug(org.name) : absl::StrCat(Slug(org.name), "-", j + 1));
      pinset->set_organization(org.name);
      pinset->set_mode(org.mode);
      pinset->add_spki_sha256(FakeSpki(pinset->name()));
      pinset_org.push_back(static_cast<int>(o));
    }
  }
  for (const RateChange& change : spec.changes) {
    if (!org_index.contains(change.organization)) {
      return absl::InvalidArgumentError("rate change for unknown organization " +
                                        change.organization);
    }
    if (absl::Status s = CheckFraction("rate change", change.violation_rate, true); !s.ok()) {
      return s;
    }
  }
  for (const Spike& spike : spec.spikes) {
    if (!org_index.contains(spike.organization)) {
      return absl::InvalidArgumentError("spike for unknown organization " + spike.organization);
    }
    if (absl::Status s = CheckFraction("spike", spike.violation_rate, true); !s.ok()) return s;
  }
  catalog.set_source("synthetic population");
  catalog.set_version(CatalogVersion(catalog));
  const int num_pinsets = catalog.pinsets_size();

  v1::RandomizationParams params = spec.params;
  if (params.pinsets_per_ping() == 0) params.set_pinsets_per_ping(num_pinsets);
  if (params.bits_per_pinset() == 0) params.set_bits_per_pinset(privacy::kDefaultBitsPerPinset);
  absl::StatusOr<privacy::Params> privacy_params =
      privacy::ParamsBuilder()
          .SetF(params.f())
          .SetP(params.p())
          .SetQ(params.q())
          .SetPinsetsPerPing(static_cast<int>(params.pinsets_per_ping()))
          .SetBitsPerPinset(static_cast<int>(params.bits_per_pinset()))
          .Build();
  if (!privacy_params.ok()) return privacy_params.status();
  if (absl::Status s = privacy_params->ValidateFor(num_pinsets); !s.ok()) return s;

  if (spec.dimensions.empty()) spec.dimensions.emplace_back();
  const uint64_t seed = spec.seed;
  std::unique_ptr<SyntheticPopulation> population(
      new SyntheticPopulation(std::move(spec), std::move(catalog), std::move(params), seed));
  population->pinset_org_ = std::move(pinset_org);
  population->states_.resize(num_pinsets);

  const privacy::EncoderConfig config{.params = *privacy_params,
                                      .num_pinsets = num_pinsets,
                                      .params_version = population->spec_.params_version,
                                      .catalog_version = population->catalog_.version()};
  const int num_dimensions = static_cast<int>(population->spec_.dimensions.size());
  population->clients_.reserve(population->spec_.clients);
  for (int i = 0; i < population->spec_.clients; ++i) {
    std::array<uint8_t, privacy::kClientSecretSize> secret;
    population->truth_source_.FillBytes(absl::MakeSpan(secret));
    absl::StatusOr<privacy::Encoder> encoder =
        privacy::Encoder::Create(config, secret, &population->irr_source_);
    if (!encoder.ok()) return encoder.status();
    population->clients_.push_back(Client{*std::move(encoder), i % num_dimensions});
  }
  return population;
}

double SyntheticPopulation::TrueRate(absl::string_view organization, DayNumber day) const {
  double rate = -1;
  for (const OrganizationSpec& org : spec_.organizations) {
    if (org.name == organization) rate = org.violation_rate;
  }
  if (rate < 0) return rate;
  DayNumber latest_change = 0;
  bool changed = false;
  for (const RateChange& change : spec_.changes) {
    if (change.organization == organization && change.day <= day &&
        (!changed || change.day >= latest_change)) {
      rate = change.violation_rate;
      latest_change = change.day;
      changed = true;
    }
  }
  for (const Spike& spike : spec_.spikes) {
    if (spike.organization == organization && spike.day == day) rate = spike.violation_rate;
  }
  return rate;
}

absl::Status SyntheticPopulation::EncodeDay(
    DayNumber day, absl::FunctionRef<void(int, const privacy::EncodedReport&)> fn) {
  const size_t num_orgs = spec_.organizations.size();
  // Bernoulli thresholds per organization for this day.
  std::vector<privacy::ExactBernoulli> checked;
  std::vector<privacy::ExactBernoulli> violated;
  checked.reserve(num_orgs);
  violated.reserve(num_orgs);
  for (const OrganizationSpec& org : spec_.organizations) {
    checked.push_back(privacy::ExactBernoulli::FromProbability(org.check_fraction));
    violated.push_back(privacy::ExactBernoulli::FromProbability(TrueRate(org.name, day)));
  }
  for (size_t c = 0; c < clients_.size(); ++c) {
    for (size_t i = 0; i < states_.size(); ++i) {
      const int o = pinset_org_[i];
      privacy::PinsetState state = privacy::PinsetState::kNotChecked;
      if (checked[o].Sample(truth_source_.NextUint64())) {
        state = violated[o].Sample(truth_source_.NextUint64()) ? privacy::PinsetState::kViolated
                                                               : privacy::PinsetState::kCheckedOk;
      }
      states_[i] = state;
    }
    absl::StatusOr<privacy::EncodedReport> report = clients_[c].encoder.Encode(states_);
    if (!report.ok()) return report.status();
    fn(static_cast<int>(c), *report);
  }
  return absl::OkStatus();
}

absl::Status SyntheticPopulation::ForEachPing(DayNumber day,
                                              absl::FunctionRef<void(const v1::Ping&)> fn) {
  const std::string day_text = FormatDay(day);
  v1::Ping ping;
  std::string ping_id(kPingIdBytes, '\0');
  return EncodeDay(day, [&](int client, const privacy::EncodedReport& report) {
    id_source_.FillBytes(
        absl::MakeSpan(reinterpret_cast<uint8_t*>(ping_id.data()), ping_id.size()));
    ping.Clear();
    ping.set_ping_id(ping_id);
    ping.set_day(day_text);
    ping.set_params_version(spec_.params_version);
    ping.set_catalog_version(catalog_.version());
    for (uint32_t index : report.pinset_indices) ping.add_pinset_indices(index);
    ping.set_bits(std::string(report.bits.begin(), report.bits.end()));
    *ping.mutable_dimensions() = spec_.dimensions[clients_[client].dimensions_index];
    fn(ping);
  });
}

absl::StatusOr<std::vector<CountRow>> SyntheticPopulation::CountDay(DayNumber day) {
  const int num_pinsets = catalog_.pinsets_size();
  const int bits = static_cast<int>(params_.bits_per_pinset());
  const size_t num_dimensions = spec_.dimensions.size();
  // rows[d * (K + 1)]: group row of dimension combination d; then one row per pinset.
  std::vector<CountRow> rows(num_dimensions * (num_pinsets + 1));
  for (size_t d = 0; d < num_dimensions; ++d) {
    for (int i = -1; i < num_pinsets; ++i) {
      CountRow& row = rows[d * (num_pinsets + 1) + (i + 1)];
      row.day = day;
      row.params_version = spec_.params_version;
      row.catalog_version = catalog_.version();
      row.product = spec_.dimensions[d].product();
      row.channel = spec_.dimensions[d].channel();
      row.major_version = spec_.dimensions[d].major_version();
      row.pinset = i < 0 ? kGroupTotalPinset : i;
    }
  }
  absl::Status status = EncodeDay(day, [&](int client, const privacy::EncodedReport& report) {
    CountRow* group = &rows[clients_[client].dimensions_index * (num_pinsets + 1)];
    ++group->reports;
    const size_t reported = report.pinset_indices.empty() ? static_cast<size_t>(num_pinsets)
                                                          : report.pinset_indices.size();
    for (size_t pos = 0; pos < reported; ++pos) {
      const uint32_t pinset =
          report.pinset_indices.empty() ? static_cast<uint32_t>(pos) : report.pinset_indices[pos];
      CountRow& row = group[pinset + 1];
      ++row.reports;
      for (int k = 0; k < bits; ++k) {
        if (privacy::UnpackBit(report.bits, privacy::ReportBitIndex(pos, k, bits))) ++row.ones[k];
      }
    }
  });
  if (!status.ok()) return status;
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [](const CountRow& row) { return row.reports == 0; }),
             rows.end());
  return rows;
}

}  // namespace pinning::aggregator::testing
