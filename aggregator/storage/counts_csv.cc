#include "aggregator/storage/counts_csv.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::aggregator {
namespace {

constexpr int kCsvFields = 12;

// An owned copy of a CountRow, for buffering one day of rows.
struct OwnedRow {
  DayNumber day;
  uint32_t params_version;
  std::string catalog_version;
  std::string product;
  std::string channel;
  uint32_t major_version;
  int32_t pinset;
  int64_t reports;
  std::array<int64_t, kMaxBitsPerPinset> ones;

  explicit OwnedRow(const CountRow& r)
      : day(r.day),
        params_version(r.params_version),
        catalog_version(r.catalog_version),
        product(r.product),
        channel(r.channel),
        major_version(r.major_version),
        pinset(r.pinset),
        reports(r.reports),
        ones(r.ones) {}

  auto GroupKey() const {
    return std::tie(day, params_version, catalog_version, product, channel, major_version);
  }
  friend bool operator<(const OwnedRow& a, const OwnedRow& b) {
    return std::tie(a.day, a.params_version, a.catalog_version, a.product, a.channel,
                    a.major_version, a.pinset) < std::tie(b.day, b.params_version,
                                                          b.catalog_version, b.product, b.channel,
                                                          b.major_version, b.pinset);
  }
};

bool IsPlainField(absl::string_view v) {
  return v.find_first_of(",\"\r\n") == absl::string_view::npos;
}

// Reads every matching row, sorted by (day, params, catalog, dims, pinset) so that exports do not
// depend on a backend's internal ids. Buffers one day at a time.
absl::Status ForEachSortedRow(CountStore& store, const CountQuery& query,
                              absl::FunctionRef<absl::Status(const OwnedRow&)> fn) {
  std::vector<OwnedRow> day_rows;
  absl::Status status = absl::OkStatus();
  auto flush = [&]() {
    std::sort(day_rows.begin(), day_rows.end());
    for (const OwnedRow& r : day_rows) {
      if (status.ok()) status = fn(r);
    }
    day_rows.clear();
  };
  RETURN_IF_ERROR(store.ForEachCount(query, [&](const CountRow& row) {
    if (!day_rows.empty() && day_rows.back().day != row.day) flush();
    day_rows.emplace_back(row);
  }));
  flush();
  return status;
}

// Shortest of %.15g..%.17g that reads back as the same double.
std::string FormatDouble(double v) {
  for (int precision = 15; precision <= 17; ++precision) {
    std::string s = absl::StrFormat("%.*g", precision, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return absl::StrFormat("%.17g", v);
}

CountQuery AllDays() {
  CountQuery q;
  q.from_day = 0;
  q.to_day = std::numeric_limits<DayNumber>::max();
  q.include_group_totals = true;
  return q;
}

}  // namespace

absl::Status ExportCountsCsv(CountStore& store, std::ostream& out) {
  out << kCountsCsvHeader << "\n";
  RETURN_IF_ERROR(ForEachSortedRow(store, AllDays(), [&](const OwnedRow& r) -> absl::Status {
    if (!IsPlainField(r.catalog_version) || !IsPlainField(r.product) || !IsPlainField(r.channel)) {
      return absl::FailedPreconditionError(
          "a catalog version or dimension contains a comma, quote or newline");
    }
    out << FormatDay(r.day) << ',' << r.params_version << ',' << r.catalog_version << ','
        << r.product << ',' << r.channel << ',' << r.major_version << ',' << r.pinset << ','
        << r.reports;
    for (int64_t ones : r.ones) out << ',' << ones;
    out << '\n';
    return absl::OkStatus();
  }));
  out.flush();
  if (!out) return absl::UnavailableError("writing the counts CSV failed");
  return absl::OkStatus();
}

absl::Status ImportCountsCsv(std::istream& in, CountStore& store) {
  std::string line;
  if (!std::getline(in, line) || absl::StripSuffix(line, "\r") != kCountsCsvHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("line 1: expected the header \"", kCountsCsvHeader, "\""));
  }
  // Rows hold views into `lines`; a deque never moves its elements.
  std::deque<std::string> lines;
  std::vector<CountRow> rows;
  for (int line_number = 2; std::getline(in, line); ++line_number) {
    absl::string_view text = absl::StripSuffix(line, "\r");
    if (text.empty()) continue;
    const std::string& stored = lines.emplace_back(text);
    std::vector<absl::string_view> f = absl::StrSplit(stored, ',');
    auto bad = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", what));
    };
    if (f.size() != kCsvFields) {
      return bad(absl::StrCat("expected ", kCsvFields, " fields, got ", f.size()));
    }
    CountRow row;
    absl::StatusOr<DayNumber> day = ParseDay(f[0]);
    if (!day.ok()) return bad(day.status().message());
    row.day = *day;
    row.catalog_version = f[2];
    row.product = f[3];
    row.channel = f[4];
    if (!absl::SimpleAtoi(f[1], &row.params_version) || row.params_version == 0) {
      return bad("bad params_version");
    }
    if (!absl::SimpleAtoi(f[5], &row.major_version)) return bad("bad major_version");
    if (!absl::SimpleAtoi(f[6], &row.pinset) || row.pinset < kGroupTotalPinset) {
      return bad("bad pinset");
    }
    if (!absl::SimpleAtoi(f[7], &row.reports) || row.reports < 0) return bad("bad reports");
    for (int b = 0; b < kMaxBitsPerPinset; ++b) {
      if (!absl::SimpleAtoi(f[8 + b], &row.ones[b]) || row.ones[b] < 0 ||
          row.ones[b] > row.reports) {
        return bad(absl::StrCat("bad ones", b));
      }
    }
    if (row.catalog_version.empty()) return bad("empty catalog_version");
    rows.push_back(row);
  }
  if (in.bad()) return absl::UnavailableError("reading the counts CSV failed");
  return store.AddCounts(rows);
}

absl::Status ExportRapporCsv(CountStore& store, uint32_t params_version, std::ostream& counts_csv,
                             std::ostream& params_csv, std::ostream* row_labels) {
  ASSIGN_OR_RETURN(std::vector<v1::ParamsVersion> versions, store.ListParamsVersions());
  auto it = std::find_if(versions.begin(), versions.end(),
                         [&](const v1::ParamsVersion& v) { return v.version() == params_version; });
  if (it == versions.end()) {
    return absl::NotFoundError(absl::StrCat("params version ", params_version, " not found"));
  }
  const v1::RandomizationParams& params = it->params();
  absl::StatusOr<v1::Catalog> catalog = store.GetCatalog(it->catalog_version());
  if (!catalog.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("catalog '", it->catalog_version(),
                                                      "' of params version ", params_version,
                                                      " is not stored"));
  }
  const int64_t num_pinsets = catalog->pinsets_size();
  const int64_t bpp = params.bits_per_pinset();
  if (num_pinsets < 1 || bpp < 1 || bpp > kMaxBitsPerPinset) {
    return absl::FailedPreconditionError(
        absl::StrCat("params version ", params_version, " has K = ", num_pinsets, " and ", bpp,
                     " bits per pinset; need K >= 1 and 1..", kMaxBitsPerPinset, " bits"));
  }
  // s >= K: every report carries every pinset's bits, so a group is one rappor cohort.
  const bool row_per_group = params.pinsets_per_ping() >= num_pinsets;
  const int64_t k = row_per_group ? num_pinsets * bpp : bpp;

  CountQuery query = AllDays();
  query.params_version = params_version;
  int64_t cohorts = 0;
  std::vector<int64_t> bit_counts;
  int64_t group_reports = 0;
  std::string group_label;
  bool have_group = false;
  auto label_of = [](const OwnedRow& r) {
    return absl::StrCat(FormatDay(r.day), ",", r.catalog_version, ",", r.product, ",", r.channel,
                        ",", r.major_version);
  };
  auto flush_group = [&]() {
    if (!have_group) return;
    counts_csv << group_reports;
    for (int64_t c : bit_counts) counts_csv << ',' << c;
    counts_csv << '\n';
    if (row_labels != nullptr) *row_labels << group_label << '\n';
    ++cohorts;
    have_group = false;
  };
  std::optional<OwnedRow> last;
  RETURN_IF_ERROR(ForEachSortedRow(store, query, [&](const OwnedRow& r) -> absl::Status {
    if (row_per_group) {
      if (!have_group || !last.has_value() || last->GroupKey() != r.GroupKey()) {
        flush_group();
        have_group = true;
        group_reports = 0;
        bit_counts.assign(k, 0);
        group_label = label_of(r);
      }
      last.emplace(r);
      if (r.pinset == kGroupTotalPinset) {
        group_reports = r.reports;
      } else if (r.pinset < num_pinsets) {
        for (int64_t b = 0; b < bpp; ++b) bit_counts[r.pinset * bpp + b] = r.ones[b];
      }
    } else if (r.pinset != kGroupTotalPinset && r.reports > 0) {
      counts_csv << r.reports;
      for (int64_t b = 0; b < bpp; ++b) counts_csv << ',' << r.ones[b];
      counts_csv << '\n';
      if (row_labels != nullptr) *row_labels << label_of(r) << ',' << r.pinset << '\n';
      ++cohorts;
    }
    return absl::OkStatus();
  }));
  flush_group();
  params_csv << "k,h,m,p,q,f\n"
             << k << ",1," << cohorts << ',' << FormatDouble(params.p()) << ','
             << FormatDouble(params.q()) << ',' << FormatDouble(params.f()) << '\n';
  counts_csv.flush();
  params_csv.flush();
  if (!counts_csv || !params_csv) return absl::UnavailableError("writing rappor CSV failed");
  return absl::OkStatus();
}

}  // namespace pinning::aggregator
