#include "client/sim/simulator.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/catalog.h"
#include "client/upload/active_params.h"
#include "client/upload/client_profile.h"
#include "client/upload/clock.h"
#include "client/upload/pending_pings.h"
#include "client/upload/profile_storage.h"
#include "client/upload/store_profile_storage.h"
#include "privacy/params.h"
#include "privacy/random_source.h"

namespace pinning::client::sim {
namespace {

// Mix derives a generator seed from (seed, browser, day, purpose) with splitmix64 steps, so every
// stream is independent of how browsers are spread over threads.
uint64_t Mix(uint64_t seed, uint64_t browser, uint64_t day, uint64_t purpose) {
  auto step = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return step(step(step(step(seed) ^ browser) ^ day) ^ purpose);
}

enum Purpose : uint64_t { kSecret = 1, kDimensions = 2, kVisits = 3, kIrr = 4, kJitter = 5 };

// SimClock is the browsers' shared clock, moved by the simulation from day to day.
class SimClock {
 public:
  absl::Time Now() const { return absl::FromUnixNanos(nanos_.load(std::memory_order_relaxed)); }
  void Set(absl::Time t) { nanos_.store(absl::ToUnixNanos(t), std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> nanos_{0};
};

// ForwardingTransport passes every call to `upstream`; the transports below override the one
// call they change.
class ForwardingTransport : public IngestTransport {
 public:
  explicit ForwardingTransport(IngestTransport* upstream) : upstream_(upstream) {}

  SubmitOutcome Submit(const v1::Ping& ping, absl::Duration timeout) override {
    return upstream_->Submit(ping, timeout);
  }
  BatchOutcome SubmitBatch(absl::Span<const v1::Ping> pings, absl::Duration timeout) override {
    return upstream_->SubmitBatch(pings, timeout);
  }
  ParamsOutcome GetParams(absl::string_view known, absl::Duration timeout) override {
    return upstream_->GetParams(known, timeout);
  }

 protected:
  IngestTransport* const upstream_;
};

// RelayTransport stands for a relay in front of the aggregator: browsers hand their pings to it
// (acknowledged once queued), and the relay forwards them upstream with SubmitBatch. Params.Get
// passes through. Used by one shard's thread at a time.
class RelayTransport final : public ForwardingTransport {
 public:
  RelayTransport(IngestTransport* upstream, size_t capacity)
      : ForwardingTransport(upstream), queue_(capacity) {}

  SubmitOutcome Submit(const v1::Ping& ping, absl::Duration) override {
    return SubmitOutcome{.status = queue_.Append(ping)};
  }
  InMemoryPendingPings& queue() { return queue_; }

 private:
  InMemoryPendingPings queue_;
};

// CachingParamsTransport answers Params.Get from a per-day cache (like a CDN in front of the
// Params service) and passes everything else through. Used by one shard's thread at a time.
class CachingParamsTransport final : public ForwardingTransport {
 public:
  using ForwardingTransport::ForwardingTransport;

  ParamsOutcome GetParams(absl::string_view known, absl::Duration timeout) override {
    auto it = cache_.find(known);
    if (it != cache_.end()) return it->second;
    ++calls_;
    ParamsOutcome outcome = upstream_->GetParams(known, timeout);
    if (outcome.status.ok()) cache_.emplace(std::string(known), outcome);
    return outcome;
  }
  // NewDay empties the cache: browsers must see a publication on the next day.
  void NewDay() { cache_.clear(); }
  uint64_t calls() const { return calls_; }

 private:
  absl::flat_hash_map<std::string, ParamsOutcome> cache_;
  uint64_t calls_ = 0;
};

// CountingTransport counts Params.Get calls that reach the aggregator.
class CountingTransport final : public ForwardingTransport {
 public:
  using ForwardingTransport::ForwardingTransport;

  ParamsOutcome GetParams(absl::string_view known, absl::Duration timeout) override {
    ++calls_;
    return upstream_->GetParams(known, timeout);
  }
  uint64_t calls() const { return calls_; }

 private:
  uint64_t calls_ = 0;
};

struct Browser {
  std::unique_ptr<ClientProfile> profile;
  uint8_t product = 0;  // index into kProducts
};

struct Product {
  const char* name;
  const char* channel;
  uint32_t major_version;
};
// Browser mix: 65% Chrome (85% stable, 15% beta), 35% Firefox stable.
constexpr Product kProducts[] = {
    {"chrome", "stable", 131}, {"chrome", "beta", 132}, {"firefox", "stable", 133}};
constexpr const char* kProductNames[] = {"chrome", "firefox"};
int ProductGroup(uint8_t product) { return product == 2 ? 1 : 0; }

// A pinned host of an organization and the pinset that pins it.
struct Destination {
  std::string host;
  int pinset = 0;
};

// Tally counts, per (organization, day, product group), browsers that checked and that saw a
// violation.
class Tally {
 public:
  Tally(int organizations, int days)
      : days_(days), counts_(static_cast<size_t>(organizations) * days * 2 * 2, 0) {}
  void Add(int org, int day, int group, bool violated) {
    ++counts_[Index(org, day, group, 0)];
    if (violated) ++counts_[Index(org, day, group, 1)];
  }
  int64_t Get(int org, int day, int group, int which) const {
    return counts_[Index(org, day, group, which)];
  }
  void Merge(const Tally& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  }

 private:
  size_t Index(int org, int day, int group, int which) const {
    return ((static_cast<size_t>(org) * days_ + day) * 2 + group) * 2 + which;
  }
  int days_;
  std::vector<int64_t> counts_;
};

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

absl::Time Noon(absl::CivilDay day) {
  return absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 12, 0, 0),
                         absl::UTCTimeZone());
}

absl::StatusOr<privacy::Params> ToPrivacyParams(const v1::RandomizationParams& p) {
  return privacy::ParamsBuilder()
      .SetF(p.f())
      .SetP(p.p())
      .SetQ(p.q())
      .SetPinsetsPerPing(static_cast<int>(p.pinsets_per_ping()))
      .SetBitsPerPinset(p.bits_per_pinset() == 0 ? 2 : static_cast<int>(p.bits_per_pinset()))
      .Build();
}

bool Pins(const v1::Pinset& pinset, const std::string& spki) {
  return std::find(pinset.spki_sha256().begin(), pinset.spki_sha256().end(), spki) !=
         pinset.spki_sha256().end();
}

}  // namespace

absl::StatusOr<SimReport> RunSimulation(const SimulatorOptions& options, const v1::Catalog& catalog,
                                        IngestTransport& transport, AggregatorAdmin& admin) {
  const absl::Time started = absl::Now();
  const Scenario& scenario = options.scenario;
  const int days = scenario.days;
  if (options.browsers < 1 || options.threads < 1) {
    return absl::InvalidArgumentError("browsers and threads must be >= 1");
  }
  if (absl::Status valid = ValidateScenario(scenario, catalog); !valid.ok()) return valid;
  if (absl::Status valid = ValidateUploaderOptions(options.uploader); !valid.ok()) return valid;
  if (static_cast<int>(scenario.organizations.size()) == 0) {
    return absl::InvalidArgumentError("the scenario has no organizations");
  }
  absl::StatusOr<privacy::Params> privacy_params = ToPrivacyParams(options.params);
  if (!privacy_params.ok()) return privacy_params.status();
  const int num_pinsets = catalog.pinsets_size();
  if (absl::Status fits = privacy_params->ValidateFor(num_pinsets); !fits.ok()) return fits;

  SimReport report;
  report.browsers = options.browsers;
  report.epsilon_one = privacy_params->EpsilonOne(num_pinsets);
  report.epsilon_inf = privacy_params->EpsilonInf(num_pinsets);
  report.prr_correlation = PrrCorrelation(*privacy_params, num_pinsets);

  // ---- A fresh aggregator (for these days), so that estimates are of this run only. ----
  const absl::CivilDay first_day = options.today - days;
  v1::RatesRequest range;
  range.set_from_day(absl::FormatCivilTime(first_day));
  range.set_to_day(absl::FormatCivilTime(first_day + (days - 1)));
  range.set_group_by(v1::GROUP_BY_PINSET);
  if (!options.allow_existing_pings) {
    absl::StatusOr<v1::RatesResponse> existing = admin.Rates(range);
    if (!existing.ok()) return existing.status();
    uint64_t pings = 0;
    for (const v1::RateSeries& series : existing->series()) {
      for (const v1::RatePoint& point : series.points()) pings = std::max(pings, point.pings());
    }
    if (pings > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("the aggregator already counts ", pings, " pings for ", range.from_day(),
                       "..", range.to_day(),
                       "; their estimates would mix earlier runs with this one. Use a fresh "
                       "aggregator data directory (or allow existing pings)"));
    }
  }

  // ---- Chains: one real chain per pinset, one intercepting chain. ----
  absl::StatusOr<std::vector<SystemRoot>> roots = LoadSystemRoots(options.ca_bundle);
  if (!roots.ok()) return roots.status();
  ChainMaker maker;
  std::vector<std::vector<std::string>> serving(num_pinsets);
  std::vector<std::vector<Destination>> destinations(scenario.organizations.size());
  for (const v1::PinnedHost& host : catalog.hosts()) {
    const v1::Pinset& pinset = catalog.pinsets(static_cast<int>(host.pinset_index()));
    const int org = scenario.OrganizationIndex(pinset.organization());
    if (org < 0) continue;
    destinations[org].push_back(
        {host.include_subdomains() ? absl::StrCat("www.", host.host()) : host.host(),
         static_cast<int>(host.pinset_index())});
  }
  for (int i = 0; i < num_pinsets; ++i) {
    absl::StatusOr<std::vector<const SystemRoot*>> pinned =
        FindPinnedRoots(catalog.pinsets(i), *roots);
    if (!pinned.ok()) return pinned.status();
    absl::StatusOr<std::vector<std::string>> chain = maker.ChainUnderRoot(
        absl::StrCat("www.", catalog.pinsets(i).name(), ".example"), *pinned->front());
    if (!chain.ok()) return chain.status();
    serving[i] = *std::move(chain);
    report.notes.push_back(absl::StrCat("pinset ", catalog.pinsets(i).name(), " (",
                                        catalog.pinsets(i).organization(), "): chains under ",
                                        pinned->front()->subject));
  }
  report.notes.push_back(absl::StrCat(
      "the catalog takes ", catalog.SpaceUsedLong(), " bytes in memory (", catalog.ByteSizeLong(),
      " serialized), once per process and catalog version, shared by all profiles"));
  absl::StatusOr<std::vector<std::string>> interception = maker.InterceptionChain("intercepted");
  if (!interception.ok()) return interception.status();

  // ---- The rotation's catalog: the pinset adds the key of another real root. ----
  std::optional<v1::Catalog> rotated;
  int rotated_pinset = -1;
  std::vector<std::string> rotated_chain;
  if (scenario.rotation.has_value()) {
    for (int i = 0; i < num_pinsets; ++i) {
      if (catalog.pinsets(i).name() == scenario.rotation->pinset) rotated_pinset = i;
    }
    const v1::Pinset& old_pinset = catalog.pinsets(rotated_pinset);
    const SystemRoot* new_root = nullptr;
    // Prefer a root another pinset of the catalog trusts (a CA the product already knows).
    for (const v1::Pinset& other : catalog.pinsets()) {
      for (const SystemRoot& root : *roots) {
        if (new_root == nullptr && Pins(other, root.spki_sha256) &&
            !Pins(old_pinset, root.spki_sha256)) {
          new_root = &root;
        }
      }
    }
    for (const SystemRoot& root : *roots) {
      if (new_root == nullptr && !Pins(old_pinset, root.spki_sha256)) new_root = &root;
    }
    if (new_root == nullptr) return absl::NotFoundError("no root to rotate to");
    rotated = catalog;
    v1::Pinset* pinset = rotated->mutable_pinsets(rotated_pinset);
    std::vector<std::string> pins(pinset->spki_sha256().begin(), pinset->spki_sha256().end());
    pins.push_back(new_root->spki_sha256);
    std::sort(pins.begin(), pins.end());
    pinset->clear_spki_sha256();
    for (std::string& pin : pins) pinset->add_spki_sha256(std::move(pin));
    rotated->set_version(CatalogVersion(*rotated));
    absl::StatusOr<std::vector<std::string>> chain =
        maker.ChainUnderRoot(absl::StrCat("www.", old_pinset.name(), ".example"), *new_root);
    if (!chain.ok()) return chain.status();
    rotated_chain = *std::move(chain);
    report.notes.push_back(absl::StrCat("rotation: pinset ", old_pinset.name(), " adds ",
                                        new_root->subject, "; servers move to it the day after"));
  }

  // Each distinct chain's SPKI hashes, computed once (hash_chains_once).
  using Hashes = std::vector<SpkiHash>;
  auto hash = [](const std::vector<std::string>& chain) -> absl::StatusOr<Hashes> {
    if (chain.empty()) return Hashes{};
    return ChainSpkiHashes(chain);
  };
  std::vector<Hashes> serving_hashes;
  for (const std::vector<std::string>& chain : serving) {
    absl::StatusOr<Hashes> h = hash(chain);
    if (!h.ok()) return h.status();
    serving_hashes.push_back(*std::move(h));
  }
  absl::StatusOr<Hashes> interception_hashes = hash(*interception);
  if (!interception_hashes.ok()) return interception_hashes.status();
  absl::StatusOr<Hashes> rotated_hashes = hash(rotated_chain);
  if (!rotated_hashes.ok()) return rotated_hashes.status();

  // ---- Publish the catalog and the parameters. ----
  absl::StatusOr<std::string> catalog_version = admin.PublishCatalog(catalog, "pinsim catalog");
  if (!catalog_version.ok()) return catalog_version.status();
  report.catalog_version = *catalog_version;
  absl::StatusOr<v1::ParamsVersion> published =
      admin.PublishParams(options.params, *catalog_version, "pinsim parameters");
  if (!published.ok()) return published.status();
  report.params_version = published->version();

  // ---- Browsers. ----
  const int threads = std::min(options.threads, options.browsers);
  SimClock clock;
  clock.Set(Noon(first_day));
  ParamsCache params_cache;
  const int64_t rss_before = ResidentBytes();
  std::vector<Browser> browsers(options.browsers);
  for (int b = 0; b < options.browsers; ++b) {
    privacy::SeededRandomSource secret_source(Mix(options.seed, b, 0, kSecret));
    ProfileSecret secret;
    secret_source.FillBytes(absl::Span<uint8_t>(secret.data(), secret.size()));
    privacy::SeededRandomSource dims(Mix(options.seed, b, 0, kDimensions));
    const double u = dims.UniformDouble();
    const uint8_t product = u < 0.65 * 0.85 ? 0 : (u < 0.65 ? 1 : 2);
    ProfileOptions profile_options;
    profile_options.dimensions.set_product(kProducts[product].name);
    profile_options.dimensions.set_channel(kProducts[product].channel);
    profile_options.dimensions.set_major_version(kProducts[product].major_version);
    std::unique_ptr<ProfileStorage> storage;
    if (options.store_dir.empty()) {
      storage = std::make_unique<InMemoryProfileStorage>(secret, options.max_pending_pings);
    } else {
      // The store makes its own secret (OpenSSL's CSPRNG), as a real profile does.
      ClientStoreOptions store_options;
      store_options.max_pending_pings = options.max_pending_pings;
      store_options.now = [&clock] { return clock.Now(); };
      absl::StatusOr<std::unique_ptr<StoreProfileStorage>> opened = StoreProfileStorage::Open(
          absl::StrCat(options.store_dir, "/browser-", b, ".store"), std::move(store_options));
      if (!opened.ok()) return opened.status();
      storage = *std::move(opened);
    }
    absl::StatusOr<std::unique_ptr<ClientProfile>> profile = ClientProfile::Create(
        std::move(profile_options), std::move(storage), [&clock] { return clock.Now(); });
    if (!profile.ok()) return profile.status();
    browsers[b] = Browser{*std::move(profile), product};
  }

  // Per-shard state: shard t owns browsers b with b % threads == t.
  struct Shard {
    std::unique_ptr<CountingTransport> counting;
    std::unique_ptr<CachingParamsTransport> params_cache;
    std::unique_ptr<privacy::CryptoRandomSource> ids;
    std::unique_ptr<privacy::SeededRandomSource> jitter;
    std::unique_ptr<RelayTransport> relay;
    std::unique_ptr<Uploader> browser_uploader;
    std::unique_ptr<Uploader> relay_uploader;
    UploadStats relay_stats;
    absl::Status relay_error;
    Tally tally;
    uint64_t maintain_errors = 0;
    std::string first_maintain_error;
  };
  RealClock real_clock;
  std::vector<Shard> shards;
  shards.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    absl::StatusOr<std::unique_ptr<privacy::CryptoRandomSource>> ids =
        privacy::CryptoRandomSource::Create();
    if (!ids.ok()) return ids.status();
    Shard shard{
        .ids = *std::move(ids),
        .jitter = std::make_unique<privacy::SeededRandomSource>(Mix(options.seed, t, 0, kJitter)),
        .tally = Tally(static_cast<int>(scenario.organizations.size()), days)};
    shard.counting = std::make_unique<CountingTransport>(&transport);
    IngestTransport* upstream = shard.counting.get();
    if (options.share_params_fetch) {
      shard.params_cache = std::make_unique<CachingParamsTransport>(upstream);
      upstream = shard.params_cache.get();
    }
    IngestTransport* browser_transport = upstream;
    UploaderOptions browser_options = options.uploader;
    browser_options.use_submit_batch = false;
    if (options.use_submit_batch) {
      shard.relay = std::make_unique<RelayTransport>(
          upstream, static_cast<size_t>(options.browsers) * (days + 1));
      browser_transport = shard.relay.get();
      UploaderOptions relay_options = options.uploader;
      relay_options.use_submit_batch = true;
      shard.relay_uploader =
          std::make_unique<Uploader>(relay_options, upstream, &real_clock, shard.jitter.get());
    }
    shard.browser_uploader = std::make_unique<Uploader>(
        browser_options, browser_transport, &real_clock, shard.jitter.get(), &params_cache);
    shards.push_back(std::move(shard));
  }

  // ---- Progress. ----
  std::atomic<int> progress_day{0};
  std::atomic<int64_t> progress_done{0};
  std::atomic<uint64_t> progress_acked{0};
  absl::Notification finished;
  std::thread reporter;
  if (options.progress) {
    reporter = std::thread([&] {
      while (!finished.WaitForNotificationWithTimeout(options.progress_interval)) {
        options.progress(SimProgress{.day = progress_day.load(),
                                     .days = days,
                                     .browsers_done = progress_done.load(),
                                     .browsers = options.browsers,
                                     .pings_acknowledged = progress_acked.load(),
                                     .elapsed = absl::Now() - started});
      }
    });
  }
  auto stop_reporter = [&] {
    if (!finished.HasBeenNotified()) finished.Notify();
    if (reporter.joinable()) reporter.join();
  };

  // ---- Days. Day `days` only encodes and sends the last day's pings. ----
  int64_t rss_after_first_day = 0;
  for (int day = 0; day <= days; ++day) {
    clock.Set(Noon(first_day + day));
    progress_day = day;
    progress_done = 0;
    if (rotated.has_value() && day == scenario.rotation->day) {
      absl::StatusOr<std::string> version = admin.PublishCatalog(
          *rotated, absl::StrCat("pin rotation of ", scenario.rotation->pinset));
      absl::StatusOr<v1::ParamsVersion> params =
          version.ok()
              ? admin.PublishParams(options.params, *version, "parameters for the rotated catalog")
              : absl::StatusOr<v1::ParamsVersion>(version.status());
      v1::RolloutEvent event;
      event.set_day(absl::FormatCivilTime(first_day + day));
      event.set_kind(v1::EVENT_KIND_PINSET_CHANGE);
      event.set_organization(catalog.pinsets(rotated_pinset).organization());
      event.set_pinset(scenario.rotation->pinset);
      event.set_description(absl::StrCat("pin rotation: ", scenario.rotation->pinset,
                                         " adds a new root; servers switch on ",
                                         absl::FormatCivilTime(first_day + day + 1)));
      absl::StatusOr<v1::RolloutEvent> recorded =
          params.ok() ? admin.RecordEvent(event)
                      : absl::StatusOr<v1::RolloutEvent>(params.status());
      if (!recorded.ok()) {
        stop_reporter();
        return recorded.status();
      }
      report.rotated_catalog_version = *version;
      report.rotated_params_version = params->version();
      report.events.push_back(absl::StrCat(event.day(), " ", event.organization(), "/",
                                           event.pinset(), ": ", event.description()));
    }

    auto work = [&](int t) {
      Shard& shard = shards[t];
      if (shard.params_cache != nullptr) shard.params_cache->NewDay();
      for (int b = t; b < options.browsers; b += threads) {
        Browser& browser = browsers[b];
        privacy::SeededRandomSource irr(Mix(options.seed, b, day, kIrr));
        if (absl::Status s = browser.profile->Maintain(*shard.browser_uploader, irr, *shard.ids);
            !s.ok()) {
          if (shard.maintain_errors++ == 0) shard.first_maintain_error = s.ToString();
        }
        if (day < days) {
          privacy::SeededRandomSource visits(Mix(options.seed, b, day, kVisits));
          for (size_t org = 0; org < scenario.organizations.size(); ++org) {
            const double visit = visits.UniformDouble();
            const double intercept = visits.UniformDouble();
            const uint64_t pick = visits.NextUint64();
            if (visit >= scenario.organizations[org].visit_probability ||
                destinations[org].empty()) {
              continue;
            }
            const Destination& to = destinations[org][pick % destinations[org].size()];
            const bool mitm = intercept < scenario.ViolationRate(static_cast<int>(org), day);
            const std::vector<std::string>* chain = &serving[to.pinset];
            const Hashes* hashes = &serving_hashes[to.pinset];
            if (mitm) {
              chain = &*interception;
              hashes = &*interception_hashes;
            } else if (to.pinset == rotated_pinset && day > scenario.rotation->day) {
              chain = &rotated_chain;
              hashes = &*rotated_hashes;
            }
            absl::StatusOr<PinCheckResult> result =
                options.hash_chains_once ? browser.profile->CheckConnectionHashes(to.host, *hashes)
                                         : browser.profile->CheckConnection(to.host, *chain);
            if (result.ok() && result->pinned()) {
              shard.tally.Add(static_cast<int>(org), day, ProductGroup(browser.product),
                              result->violated());
            }
          }
        }
        ++progress_done;
      }
      if (shard.relay != nullptr) {
        absl::Status flushed = shard.relay_uploader->Flush(shard.relay->queue(), shard.relay_stats);
        if (!flushed.ok() && shard.relay_error.ok()) shard.relay_error = flushed;
      }
    };
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (int t = 0; t < threads; ++t) workers.emplace_back(work, t);
    for (std::thread& w : workers) w.join();
    uint64_t acked = 0;
    for (const Shard& shard : shards) acked += shard.relay_stats.acknowledged;
    if (!options.use_submit_batch) {
      for (int b = 0; b < options.browsers; ++b) {
        acked += browsers[b].profile->stats().upload.acknowledged;
      }
    }
    progress_acked = acked;
    if (day == 0) rss_after_first_day = ResidentBytes();
  }
  stop_reporter();
  report.bytes_per_browser =
      static_cast<double>(rss_after_first_day - rss_before) / options.browsers;

  // ---- Totals. ----
  for (const Browser& browser : browsers) {
    const ProfileStats& s = browser.profile->stats();
    report.pings_encoded += s.pings_encoded;
    report.days_over_budget += s.days_over_budget;
    report.days_without_params += s.days_without_params;
    report.dropped_overflow += browser.profile->storage().pending().dropped_overflow();
    report.lifetime_epsilon_max = std::max(report.lifetime_epsilon_max,
                                           browser.profile->storage().ledger().LifetimeEpsilon());
    // With a relay the browsers' "acknowledged" means queued at the relay; the relay's own
    // counters below say what the aggregator answered.
    if (!options.use_submit_batch) {
      report.upload.acknowledged += s.upload.acknowledged;
      report.upload.duplicates += s.upload.duplicates;
      report.upload.dropped_invalid += s.upload.dropped_invalid;
    }
    report.upload.failed_attempts += s.upload.failed_attempts;
    report.upload.retry_hints += s.upload.retry_hints;
    report.upload.params_fetches += s.upload.params_fetches;
    report.upload.params_refusals += s.upload.params_refusals;
  }
  Tally tally(static_cast<int>(scenario.organizations.size()), days);
  for (Shard& shard : shards) {
    tally.Merge(shard.tally);
    report.params_calls += shard.counting->calls();
    report.upload.acknowledged += shard.relay_stats.acknowledged;
    report.upload.duplicates += shard.relay_stats.duplicates;
    report.upload.dropped_invalid += shard.relay_stats.dropped_invalid;
    report.upload.failed_attempts += shard.relay_stats.failed_attempts;
    report.upload.retry_hints += shard.relay_stats.retry_hints;
    if (shard.maintain_errors > 0) {
      report.notes.push_back(absl::StrCat(
          shard.maintain_errors,
          " browser maintenance runs reported an error, first: ", shard.first_maintain_error));
    }
    if (!shard.relay_error.ok()) {
      report.notes.push_back(absl::StrCat("relay: ", shard.relay_error.ToString()));
    }
  }
  browsers.clear();  // closes the stores
  if (!options.store_dir.empty()) {
    uint64_t bytes = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(options.store_dir, error)) {
      if (entry.is_regular_file()) bytes += entry.file_size();
    }
    report.store_bytes_per_browser = static_cast<double>(bytes) / options.browsers;
  }

  // ---- Read the decoded rates back (all acknowledged pings are durable; poll until stable). ----
  // Per-product cells partition the browsers, so they stay independent of each other.
  std::vector<std::string> products = {""};
  if (options.cells_by_product) products = {kProductNames[0], kProductNames[1]};
  std::map<std::string, v1::RatesResponse> responses;
  for (const std::string& product : products) {
    v1::RatesRequest request;
    request.set_from_day(absl::FormatCivilTime(first_day));
    request.set_to_day(absl::FormatCivilTime(first_day + (days - 1)));
    request.set_group_by(v1::GROUP_BY_ORGANIZATION);
    request.set_per_day(true);
    request.mutable_filter()->set_product(product);
    std::string previous;
    for (int attempt = 0; attempt < 20; ++attempt) {
      absl::SleepFor(absl::Milliseconds(attempt == 0 ? 200 : 500));
      absl::StatusOr<v1::RatesResponse> response = admin.Rates(request);
      if (!response.ok()) return response.status();
      std::string bytes;
      response->SerializeToString(&bytes);
      responses[product] = *std::move(response);
      if (bytes == previous) break;
      previous = std::move(bytes);
    }
  }

  // ---- Cells. ----
  int64_t covered = 0;
  for (size_t org = 0; org < scenario.organizations.size(); ++org) {
    const std::string& name = scenario.organizations[org].organization;
    for (const std::string& product : products) {
      const v1::RatesResponse& response = responses[product];
      const v1::RateSeries* series = nullptr;
      for (const v1::RateSeries& s : response.series()) {
        if (s.key() == name) series = &s;
      }
      for (int day = 0; day < days; ++day) {
        SimCell cell;
        cell.organization = name;
        cell.day = absl::FormatCivilTime(first_day + day);
        cell.product = product;
        for (int group = 0; group < 2; ++group) {
          if (!product.empty() && product != kProductNames[group]) continue;
          cell.checked += tally.Get(static_cast<int>(org), day, group, 0);
          cell.violated += tally.Get(static_cast<int>(org), day, group, 1);
        }
        if (cell.checked == 0) continue;
        cell.true_rate = static_cast<double>(cell.violated) / static_cast<double>(cell.checked);
        if (series != nullptr) {
          for (const v1::RatePoint& point : series->points()) {
            if (point.day() == cell.day) cell.estimate = point;
          }
        }
        if (!cell.estimate.sufficient()) {
          ++report.insufficient;
        } else {
          constexpr double kSlack = 1e-12;  // printing-level rounding of an exact boundary
          cell.covered = cell.estimate.ci_low() - kSlack <= cell.true_rate &&
                         cell.true_rate <= cell.estimate.ci_high() + kSlack;
        }
        covered += cell.covered ? 1 : 0;
        report.cells.push_back(std::move(cell));
      }
    }
  }
  report.coverage = CheckCoverage(static_cast<int64_t>(report.cells.size()), covered,
                                  DesignEffect(*privacy_params, num_pinsets, days));
  report.elapsed = absl::Now() - started;
  return report;
}

}  // namespace pinning::client::sim
