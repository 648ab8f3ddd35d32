#include "aggregator/ingest/group_committer.h"

namespace pinning::aggregator {

// TODO: implementation in progress.
absl::StatusOr<std::unique_ptr<GroupCommitter>> GroupCommitter::Start(CountStore*, MetricsRegistry*,
                                                                      GroupCommitterOptions) {
  return absl::UnimplementedError("");
}
GroupCommitter::~GroupCommitter() = default;
absl::Status GroupCommitter::Submit(v1::Ping, const ValidPingInfo&, CommitCallback) {
  return absl::UnimplementedError("");
}
void GroupCommitter::Shutdown() {}
int64_t GroupCommitter::QueueDepth() const { return 0; }

}  // namespace pinning::aggregator
