#include "aggregator/storage/counts_csv.h"

namespace pinning::aggregator {

// TODO: implementation in progress.
absl::Status ExportCountsCsv(CountStore&, std::ostream&) { return absl::UnimplementedError(""); }
absl::Status ImportCountsCsv(std::istream&, CountStore&) { return absl::UnimplementedError(""); }
absl::Status ExportRapporCsv(CountStore&, uint32_t, std::ostream&, std::ostream&, std::ostream*) {
  return absl::UnimplementedError("");
}

}  // namespace pinning::aggregator
