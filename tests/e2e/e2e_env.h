// e2e_env.h: a real aggregator for the client's end-to-end tests.
//
// Starts aggregator::Server in-process on 127.0.0.1:0 with TLS (a throw-away CA and server
// certificate from tests/test_certs.h), an SQLite data directory and a token file under the
// test's temporary directory, and hands out the client-side connections the uploader and the
// simulator use: GrpcIngestTransport (Ingest, Params) and GrpcAggregatorClient (Admin, Query).
// No catalog or parameters are published: each test publishes its own through Admin().
//
//   absl::StatusOr<std::unique_ptr<AggregatorEnv>> env = AggregatorEnv::Start();
//   auto transport = (*env)->Transport();
//   auto admin = (*env)->Admin();
//   ASSERT_OK(admin->PublishCatalog(catalog, "test"));
#ifndef TESTS_E2E_E2E_ENV_H_
#define TESTS_E2E_E2E_ENV_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/serve/server.h"
#include "client/sim/aggregator_client.h"
#include "client/upload/grpc_ingest_transport.h"
#include "tests/test_certs.h"

namespace pinning::tests {

class AggregatorEnv {
 public:
  // A privacy-admin token (the only token of the server).
  static constexpr char kAdminToken[] = "e2e-admin-token-0123456789abcdef";

  // Start starts the server; `customize` may change the options first (the defaults here are
  // ServerOptions' own, with no epsilon ceilings).
  static absl::StatusOr<std::unique_ptr<AggregatorEnv>> Start(
      const std::function<void(aggregator::ServerOptions&)>& customize = {});

  ~AggregatorEnv();

  aggregator::Server& server() { return *server_; }
  // target returns "localhost:PORT" (the name the test certificate is valid for).
  std::string target() const;
  const TestCertificates& certs() const { return certs_; }

  absl::StatusOr<std::unique_ptr<client::GrpcIngestTransport>> Transport() const;
  absl::StatusOr<std::unique_ptr<client::sim::GrpcAggregatorClient>> Admin() const;

  // Metric returns the value of one sample line of the server's Prometheus export; 0 if absent.
  double Metric(const std::string& sample) const;

 private:
  AggregatorEnv() = default;
  std::string dir_;
  TestCertificates certs_;
  std::unique_ptr<aggregator::Server> server_;
};

}  // namespace pinning::tests

#endif  // TESTS_E2E_E2E_ENV_H_
