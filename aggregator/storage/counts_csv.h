// counts_csv.h: backups of the counts as CSV, and export in google/rappor's analysis formats.
//
// Native format (ExportCountsCsv / ImportCountsCsv), one line per stored count row:
//   day,params_version,catalog_version,product,channel,major_version,pinset,reports,ones0,ones1,ones2,ones3
//   2024-03-01,3,ab12...,chrome,stable,131,-1,1000,0,0,0,0
//   2024-03-01,3,ab12...,chrome,stable,131,0,1000,412,37,0,0
// pinset -1 is the group's ping count. Fields never contain commas, quotes or newlines (the
// vocabularies and hex catalog versions guarantee it; export fails with FAILED_PRECONDITION
// otherwise). Import adds the rows to the store (counts are additive), so importing a backup into
// an empty store restores it and importing shard exports merges them.
//
// google/rappor format (ExportRapporCsv): `counts.csv` has no header and one row per cohort: the
// cohort's number of reports followed by the count of each bit, bit 0 first (as written by
// rappor's sum_bits.py and read by analysis/R/read_input.R); `params.csv` is the header
// `k,h,m,p,q,f` and one row. Our pings have no Bloom filter: bit j of a report is the j-th
// randomized bit, so h = 1, and each (day, catalog, dimensions) group of one params version is a
// cohort:
//   - s == K (every ping reports every pinset): one row per group, N = pings of the group,
//     k = K * bits_per_pinset, bit j = pinset j / bits_per_pinset, bit j % bits_per_pinset.
//   - s < K: a report covers only s pinsets, so each (group, pinset) is a cohort: N = pings that
//     reported the pinset, k = bits_per_pinset.
// The rows are ordered by day, catalog version, dimensions (and pinset); `row_labels` (optional)
// receives one "day,catalog_version,product,channel,major_version[,pinset]" line per row so that
// rappor's per-cohort results can be mapped back.
//
//   std::ofstream out(path);
//   RETURN_IF_ERROR(ExportCountsCsv(*store, out));
#ifndef AGGREGATOR_STORAGE_COUNTS_CSV_H_
#define AGGREGATOR_STORAGE_COUNTS_CSV_H_

#include <cstdint>
#include <istream>
#include <ostream>

#include "absl/status/status.h"
#include "aggregator/storage/count_store.h"

namespace pinning::aggregator {

// kCountsCsvHeader is the first line of the native format.
inline constexpr char kCountsCsvHeader[] =
    "day,params_version,catalog_version,product,channel,major_version,pinset,reports,ones0,ones1,"
    "ones2,ones3";

// ExportCountsCsv writes every count row of `store` (all days) in the native format.
[[nodiscard]] absl::Status ExportCountsCsv(CountStore& store, std::ostream& out);

// ImportCountsCsv parses the native format and adds the rows to `store` in one transaction. On a
// malformed line nothing is added and the error (INVALID_ARGUMENT) names the line number.
[[nodiscard]] absl::Status ImportCountsCsv(std::istream& in, CountStore& store);

// ExportRapporCsv writes google/rappor's counts.csv and params.csv for one params version
// (layout above). `row_labels` may be null. NOT_FOUND when the params version is unknown,
// FAILED_PRECONDITION when its catalog is not stored.
[[nodiscard]] absl::Status ExportRapporCsv(CountStore& store, uint32_t params_version,
                                           std::ostream& counts_csv, std::ostream& params_csv,
                                           std::ostream* row_labels);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_COUNTS_CSV_H_
