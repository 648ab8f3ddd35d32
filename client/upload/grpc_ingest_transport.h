// grpc_ingest_transport.h: IngestTransport over gRPC with TLS.
//
// One channel (and one stub per service) is created and reused for every call; every call has a
// deadline. TLS verifies the aggregator's certificate against the CA given in the options (a
// development CA from tools/dev_certs.sh, or the system roots when none is given).
//
//   GrpcTransportOptions options;
//   options.target = "localhost:8443";
//   options.ca_file = "demo-data/certs/ca.pem";
//   ASSIGN_OR_RETURN(std::unique_ptr<GrpcIngestTransport> transport,
//                    GrpcIngestTransport::Create(options));
//
// This header includes no gRPC header; gRPC types live in the .cc (channels and status conversion
// in grpc_channel.h).
// Thread safety: thread-safe.
#ifndef CLIENT_UPLOAD_GRPC_INGEST_TRANSPORT_H_
#define CLIENT_UPLOAD_GRPC_INGEST_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/upload/ingest_transport.h"

namespace pinning::client {

struct GrpcTransportOptions {
  // host:port of aggregatord.
  std::string target;
  // PEM file of the CA that signed the server certificate; empty: `ca_pem`, else the system roots.
  std::string ca_file;
  // PEM text of that CA (used when ca_file is empty).
  std::string ca_pem;
  // Plaintext gRPC, for tests and development only.
  bool insecure = false;
};

class GrpcIngestTransport final : public IngestTransport {
 public:
  // Create checks the options and builds the channel (connecting lazily). INVALID_ARGUMENT for an
  // empty target; NOT_FOUND when ca_file cannot be read.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GrpcIngestTransport>> Create(
      const GrpcTransportOptions& options);

  ~GrpcIngestTransport() override;

  SubmitOutcome Submit(const v1::Ping& ping, absl::Duration timeout) override;
  BatchOutcome SubmitBatch(absl::Span<const v1::Ping> pings, absl::Duration timeout) override;
  ParamsOutcome GetParams(absl::string_view known_catalog_version, absl::Duration timeout) override;

 private:
  struct Impl;
  explicit GrpcIngestTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_GRPC_INGEST_TRANSPORT_H_
