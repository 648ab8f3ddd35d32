#include "aggregator/serve/rpc_util.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "aggregator/ingest/rejection.h"
#include "aggregator/serve/grpc_status.h"

namespace pinning::aggregator {

absl::StatusOr<Principal> AuthorizeCall(const grpc::CallbackServerContext& context,
                                        const TokenStore& tokens, Role required) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view value;
  if (it != metadata.end()) value = absl::string_view(it->second.data(), it->second.size());
  return tokens.Authorize(value, required);
}

void AddRetryTrailer(grpc::CallbackServerContext* context, const absl::Status& status) {
  if (std::optional<int64_t> retry = RetryAfterMs(status); retry.has_value()) {
    context->AddTrailingMetadata(kRetryAfterMsKey, absl::StrCat(*retry));
  }
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      grpc::ServerUnaryReactor* reactor,
                                      const absl::Status& status) {
  AddRetryTrailer(context, status);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace pinning::aggregator
