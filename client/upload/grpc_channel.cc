#include "client/upload/grpc_channel.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace pinning::client {

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(const ChannelOptions& options) {
  if (options.target.empty()) return absl::InvalidArgumentError("aggregator target is empty");
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.insecure) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      std::ifstream in(options.ca_file, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot read CA file ", options.ca_file));
      std::ostringstream text;
      text << in.rdbuf();
      ssl.pem_root_certs = text.str();
    } else {
      ssl.pem_root_certs = options.ca_pem;  // empty: gRPC's default roots
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateChannel(options.target, credentials);
}

absl::StatusCode StatusCodeFromInt(int code) {
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::StatusCode::kUnknown;
  }
  return static_cast<absl::StatusCode>(code);
}

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view call) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(
      StatusCodeFromInt(static_cast<int>(status.error_code())),
      call.empty() ? status.error_message() : absl::StrCat(call, ": ", status.error_message()));
}

}  // namespace pinning::client
