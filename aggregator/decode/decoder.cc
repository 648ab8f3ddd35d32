#include "aggregator/decode/decoder.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "aggregator/storage/day.h"
#include "privacy/estimator.h"
#include "privacy/pinset_state.h"

namespace pinning::aggregator {
namespace {

constexpr char kNoOrganization[] = "(no organization)";

// Series ids of a catalog's pinsets, per request.
constexpr int32_t kUnresolved = -2;
constexpr int32_t kFilteredOut = -1;

struct SeriesInfo {
  std::string key;
  std::string organization;
};

void SetPoint(const privacy::RateEstimate& e, int64_t pings, const std::vector<uint32_t>& versions,
              v1::RatePoint* point) {
  point->set_pings(static_cast<uint64_t>(pings));
  if (!e.sufficient) {
    point->set_sufficient(false);
    point->set_insufficient_reason(e.reason.empty() ? "insufficient data" : e.reason);
    return;
  }
  point->set_sufficient(true);
  point->set_rate(e.rate);
  point->set_std_error(e.std_error);
  point->set_ci_low(e.ci_low);
  point->set_ci_high(e.ci_high);
  point->set_violated_estimate(e.violated_estimate);
  point->set_checked_estimate(e.checked_estimate);
  for (uint32_t v : versions) point->add_params_versions(v);
}

}  // namespace

Decoder::Decoder(CountStore* store, DecoderOptions options) : store_(store), options_(options) {}

absl::Status Decoder::Refresh(CatalogMap* catalogs, ParamsMap* params) {
  absl::StatusOr<std::vector<std::string>> versions = store_->ListCatalogVersions();
  if (!versions.ok()) return versions.status();
  std::vector<std::string> missing;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& v : *versions) {
      if (!catalogs_.contains(v)) missing.push_back(v);
    }
  }
  for (const std::string& version : missing) {
    absl::StatusOr<v1::Catalog> catalog = store_->GetCatalog(version);
    if (!catalog.ok()) return catalog.status();
    auto info = std::make_shared<CatalogInfo>();
    info->names.resize(catalog->pinsets_size());
    info->organizations.resize(catalog->pinsets_size());
    for (int i = 0; i < catalog->pinsets_size(); ++i) {
      // A pinset's position is its index in pings.
      const v1::Pinset& p = catalog->pinsets(i);
      info->names[i] = p.name().empty() ? absl::StrCat("pinset-", i) : p.name();
      info->organizations[i] = p.organization().empty() ? kNoOrganization : p.organization();
    }
    absl::MutexLock lock(&mu_);
    catalogs_.try_emplace(version, std::move(info));
  }
  absl::StatusOr<std::vector<v1::ParamsVersion>> stored = store_->ListParamsVersions();
  if (!stored.ok()) return stored.status();
  absl::MutexLock lock(&mu_);
  for (const v1::ParamsVersion& v : *stored) {
    if (params_.contains(v.version())) continue;
    const v1::RandomizationParams& r = v.params();
    absl::StatusOr<privacy::Params> built =
        privacy::ParamsBuilder()
            .SetF(r.f())
            .SetP(r.p())
            .SetQ(r.q())
            .SetPinsetsPerPing(static_cast<int>(r.pinsets_per_ping()))
            .SetBitsPerPinset(r.bits_per_pinset() == 0 ? privacy::kDefaultBitsPerPinset
                                                       : static_cast<int>(r.bits_per_pinset()))
            .Build();
    // Decoding needs the checked and violated bits.
    if (built.ok() && built->bits_per_pinset() > privacy::kViolatedBit) {
      params_.emplace(v.version(), *built);
    }
  }
  *catalogs = catalogs_;
  *params = params_;
  return absl::OkStatus();
}

absl::StatusOr<v1::RatesResponse> Decoder::Rates(const v1::RatesRequest& request) {
  absl::StatusOr<DayNumber> from = ParseDay(request.from_day());
  if (!from.ok())
    return absl::InvalidArgumentError(absl::StrCat("from_day: ", from.status().message()));
  absl::StatusOr<DayNumber> to = ParseDay(request.to_day());
  if (!to.ok()) return absl::InvalidArgumentError(absl::StrCat("to_day: ", to.status().message()));
  if (*to < *from) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_day ", request.to_day(), " is before from_day ", request.from_day()));
  }
  if (*to - *from + 1 > options_.max_range_days) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the range covers ", *to - *from + 1, " days; the limit is ", options_.max_range_days));
  }
  const bool by_pinset = request.group_by() == v1::GROUP_BY_PINSET;
  const bool per_day = request.per_day();
  const absl::flat_hash_set<std::string> wanted(request.keys().begin(), request.keys().end());

  CountQuery query;
  query.from_day = *from;
  query.to_day = *to;
  query.product = request.filter().product();
  query.channel = request.filter().channel();
  query.major_version = request.filter().major_version();
  query.include_group_totals = false;
  query.sum_dimensions = true;  // dimensions are added up below anyway

  CatalogMap catalog_infos;
  ParamsMap params;
  if (absl::Status s = Refresh(&catalog_infos, &params); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("loading catalogs and params failed: ", s.message()));
  }

  std::vector<SeriesInfo> series;
  absl::flat_hash_map<std::string, int32_t> series_index;
  // A catalog seen in the rows, with each pinset's series id.
  struct CatalogSlot {
    std::string version;
    const CatalogInfo* info = nullptr;
    std::vector<int32_t> series_of_pinset;  // empty when the catalog is not stored
  };
  std::vector<CatalogSlot> catalogs;
  absl::flat_hash_map<std::string, int32_t> catalog_index;

  // Resolves a catalog version to its slot. Pinsets are mapped to series when their counts are
  // first flushed, so only keys with data get a series.
  auto slot_of = [&](absl::string_view version) -> int32_t {
    auto it = catalog_index.find(version);
    if (it != catalog_index.end()) return it->second;
    const int32_t slot = static_cast<int32_t>(catalogs.size());
    CatalogSlot& c = catalogs.emplace_back();
    c.version = std::string(version);
    catalog_index.emplace(c.version, slot);
    auto found = catalog_infos.find(version);
    if (found == catalog_infos.end()) return slot;  // rows of an unknown catalog: skipped
    c.info = found->second.get();
    c.series_of_pinset.assign(c.info->names.size(), kUnresolved);
    return slot;
  };
  auto series_of = [&](CatalogSlot& c, int32_t pinset) -> int32_t {
    int32_t& s = c.series_of_pinset[pinset];
    if (s != kUnresolved) return s;
    const std::string& key = by_pinset ? c.info->names[pinset] : c.info->organizations[pinset];
    if (!wanted.empty() && !wanted.contains(key)) return s = kFilteredOut;
    auto [entry, inserted] = series_index.try_emplace(key, static_cast<int32_t>(series.size()));
    if (inserted) series.push_back({key, c.info->organizations[pinset]});
    return s = entry->second;
  };

  // Rows arrive ordered by day, so counts are summed (over dimensions, and over days when not
  // per_day) in dense per-(params version, catalog) arrays for the current point, then flushed as
  // one Entry per (series, point, params version, pinset).
  struct Combo {
    uint32_t params_version = 0;
    int32_t slot = -1;
    bool touched = false;
    std::vector<privacy::PinsetCounts> counts;  // by pinset; empty: rows cannot be decoded
  };
  struct Entry {
    int32_t series;
    DayNumber point;
    uint32_t params_version;
    privacy::PinsetCounts counts;
  };
  std::vector<Combo> combos;
  absl::flat_hash_map<std::pair<uint32_t, int32_t>, int32_t> combo_index;
  std::vector<int32_t> touched;
  std::vector<Entry> entries;
  DayNumber current_point = std::numeric_limits<DayNumber>::min();
  auto flush = [&]() {
    for (int32_t ci : touched) {
      Combo& combo = combos[ci];
      CatalogSlot& c = catalogs[combo.slot];
      for (size_t pinset = 0; pinset < combo.counts.size(); ++pinset) {
        privacy::PinsetCounts& counts = combo.counts[pinset];
        if (counts.reports == 0) continue;
        const int32_t s = series_of(c, static_cast<int32_t>(pinset));
        if (s >= 0) entries.push_back({s, current_point, combo.params_version, counts});
        counts = privacy::PinsetCounts();
      }
      combo.touched = false;
    }
    touched.clear();
  };

  // The store keeps one string per catalog version during a scan: compare pointers first.
  const char* last_catalog_data = nullptr;
  size_t last_catalog_size = 0;
  uint32_t last_params_version = 0;
  int32_t last_combo = -1;
  absl::Status scan = store_->ForEachCount(query, [&](const CountRow& row) {
    const DayNumber point = per_day ? row.day : 0;
    if (point != current_point) {
      flush();
      current_point = point;
    }
    if (last_combo < 0 || row.params_version != last_params_version ||
        row.catalog_version.data() != last_catalog_data ||
        row.catalog_version.size() != last_catalog_size) {
      const int32_t slot = slot_of(row.catalog_version);
      auto [it, inserted] = combo_index.try_emplace(std::make_pair(row.params_version, slot),
                                                    static_cast<int32_t>(combos.size()));
      if (inserted) {
        Combo& combo = combos.emplace_back();
        combo.params_version = row.params_version;
        combo.slot = slot;
        // Rows of unstored params (cannot be decoded) or catalogs (cannot be named) are skipped.
        if (params.contains(row.params_version)) {
          combo.counts.resize(catalogs[slot].series_of_pinset.size());
        }
      }
      last_combo = it->second;
      last_params_version = row.params_version;
      last_catalog_data = row.catalog_version.data();
      last_catalog_size = row.catalog_version.size();
    }
    Combo& combo = combos[last_combo];
    if (row.pinset < 0 || static_cast<size_t>(row.pinset) >= combo.counts.size()) return;
    privacy::PinsetCounts& counts = combo.counts[row.pinset];
    counts.reports += row.reports;
    counts.checked_ones += row.ones[privacy::kCheckedBit];
    counts.violated_ones += row.ones[privacy::kViolatedBit];
    if (!combo.touched) {
      combo.touched = true;
      touched.push_back(last_combo);
    }
  });
  if (!scan.ok()) {
    return absl::UnavailableError(absl::StrCat("reading counts failed: ", scan.message()));
  }
  flush();

  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.series, a.point, a.params_version) <
           std::tie(b.series, b.point, b.params_version);
  });
  // Entries of series s are [series_begin[s], series_begin[s + 1]).
  std::vector<size_t> series_begin(series.size() + 1, entries.size());
  for (size_t i = entries.size(); i-- > 0;) series_begin[entries[i].series] = i;
  for (size_t s = series.size(); s-- > 0;) {
    series_begin[s] = std::min(series_begin[s], series_begin[s + 1]);
  }
  std::vector<int32_t> order(series.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return series[a].key < series[b].key; });

  v1::RatesResponse response;
  std::vector<privacy::RateEstimate> estimates;
  std::vector<uint32_t> versions;
  std::vector<privacy::PinsetCounts> pinsets;
  for (int32_t s : order) {
    v1::RateSeries* out = response.add_series();
    out->set_key(series[s].key);
    out->set_organization(series[s].organization);
    size_t i = series_begin[s];
    const size_t end = series_begin[s + 1];
    const DayNumber first_point = per_day ? *from : 0;
    const DayNumber last_point = per_day ? *to : 0;
    for (DayNumber point = first_point; point <= last_point; ++point) {
      estimates.clear();
      versions.clear();
      int64_t pings = 0;
      while (i < end && entries[i].point == point) {
        const uint32_t version = entries[i].params_version;
        pinsets.clear();
        for (; i < end && entries[i].point == point && entries[i].params_version == version; ++i) {
          pinsets.push_back(entries[i].counts);
        }
        const privacy::Params& p = params.at(version);
        if (by_pinset) {
          // The same pinset name in two catalogs of one params version is one pinset: add.
          privacy::PinsetCounts total;
          for (const auto& c : pinsets) {
            total.reports += c.reports;
            total.checked_ones += c.checked_ones;
            total.violated_ones += c.violated_ones;
          }
          estimates.push_back(privacy::EstimateViolationRate(total, p));
          pings += total.reports;
        } else {
          estimates.push_back(privacy::EstimateOrganizationRate(pinsets, p));
          int64_t most = 0;
          for (const auto& c : pinsets) most = std::max(most, c.reports);
          pings += most;
        }
        versions.push_back(version);
      }
      v1::RatePoint* rp = out->add_points();
      if (per_day) rp->set_day(FormatDay(point));
      privacy::RateEstimate combined;
      if (estimates.empty()) {
        combined.sufficient = false;
        combined.reason = "no reports";
      } else if (estimates.size() == 1) {
        combined = estimates[0];
      } else {
        // Different params versions have different noise: combine their estimates, never their
        // counts (DESIGN §4).
        combined = privacy::CombineByInverseVariance(estimates);
        // List only the versions that entered the combination.
        size_t kept = 0;
        for (size_t i = 0; i < estimates.size(); ++i) {
          if (estimates[i].sufficient) versions[kept++] = versions[i];
        }
        versions.resize(kept);
      }
      SetPoint(combined, pings, versions, rp);
    }
  }
  return response;
}

}  // namespace pinning::aggregator
