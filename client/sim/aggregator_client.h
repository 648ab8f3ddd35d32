// aggregator_client.h: the Admin and Query calls the population simulator makes to aggregatord.
//
// The simulator publishes the catalog and parameters it simulates (Admin.PublishCatalog,
// Admin.PublishParams), records rollout events (Admin.RecordEvent) and finally reads the decoded
// rates back (Query.Rates) to compare them with the truth. These need a bearer token with the
// privacy-admin role. AggregatorAdmin is the interface; GrpcAggregatorClient talks gRPC over TLS
// with a deadline on every call.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<GrpcAggregatorClient> client,
//                    GrpcAggregatorClient::Create({.target = "localhost:8443",
//                                                  .ca_file = "ca.pem", .token = token}));
//   ASSIGN_OR_RETURN(std::string version, client->PublishCatalog(catalog, "pinsim"));
//
// Thread safety: GrpcAggregatorClient is thread-safe.
#ifndef CLIENT_SIM_AGGREGATOR_CLIENT_H_
#define CLIENT_SIM_AGGREGATOR_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"
#include "proto/query.pb.h"

namespace pinning::client::sim {

class AggregatorAdmin {
 public:
  virtual ~AggregatorAdmin() = default;

  // PublishCatalog publishes `catalog` (a no-op when already stored) and returns its version.
  virtual absl::StatusOr<std::string> PublishCatalog(const v1::Catalog& catalog,
                                                     absl::string_view note) = 0;
  // PublishParams publishes parameters for `catalog_version` and returns the new version.
  virtual absl::StatusOr<v1::ParamsVersion> PublishParams(const v1::RandomizationParams& params,
                                                          absl::string_view catalog_version,
                                                          absl::string_view note) = 0;
  virtual absl::StatusOr<v1::RolloutEvent> RecordEvent(const v1::RolloutEvent& event) = 0;
  virtual absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request) = 0;
};

struct AggregatorClientOptions {
  std::string target;
  // PEM file of the CA of the server certificate; empty: `ca_pem`, else the system roots.
  std::string ca_file;
  std::string ca_pem;
  bool insecure = false;
  // Bearer token with the privacy-admin role.
  std::string token;
  absl::Duration timeout = absl::Seconds(30);
};

class GrpcAggregatorClient final : public AggregatorAdmin {
 public:
  // Create builds the channel. INVALID_ARGUMENT for an empty target or token; NOT_FOUND for an
  // unreadable CA file.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GrpcAggregatorClient>> Create(
      const AggregatorClientOptions& options);
  ~GrpcAggregatorClient() override;

  absl::StatusOr<std::string> PublishCatalog(const v1::Catalog& catalog,
                                             absl::string_view note) override;
  absl::StatusOr<v1::ParamsVersion> PublishParams(const v1::RandomizationParams& params,
                                                  absl::string_view catalog_version,
                                                  absl::string_view note) override;
  absl::StatusOr<v1::RolloutEvent> RecordEvent(const v1::RolloutEvent& event) override;
  absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request) override;

 private:
  struct Impl;
  explicit GrpcAggregatorClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ReadTokenFile returns the first line of `path`, trimmed. NOT_FOUND when unreadable,
// INVALID_ARGUMENT when empty.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace pinning::client::sim

#endif  // CLIENT_SIM_AGGREGATOR_CLIENT_H_
