// test_env.h: an aggregator for integration tests: TLS certificates, a token file, a catalog and
// initial parameters written to a fresh temporary directory, a Server started on 127.0.0.1:0, and
// a TLS gRPC channel to it. Also makes pings with the real privacy encoder.
//
//   absl::StatusOr<std::unique_ptr<TestEnv>> env = TestEnv::Create();
//   auto ingest = v1::Ingest::NewStub((*env)->Channel());
//   auto context = (*env)->Context();                 // no token, 10 s deadline
//   v1::SubmitResponse response;
//   grpc::Status s = ingest->Submit(context.get(), (*env)->SubmitFor(ping), &response);
//   auto query = v1::Query::NewStub((*env)->Channel());
//   auto reader = (*env)->Context(TestEnv::kReaderToken);
//
// The catalog has K = 4 pinsets of 3 organizations (Google: google, google-backup; Tor: tor;
// Mozilla: mozilla). The initial parameters (version 1) are f = 0.5, p = 0.25, q = 0.75 reporting
// all pinsets; the epsilon ceilings are eps1 <= 6 and eps_inf <= 10 (version 1 has
// eps1 = 8 ln(5/3) = 4.09 and eps_inf = 8 ln 3 = 8.79).
#ifndef TESTS_TEST_ENV_H_
#define TESTS_TEST_ENV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/serve/server.h"
#include "aggregator/storage/count_store.h"
#include "aggregator/storage/sqlite_store.h"
#include "grpcpp/grpcpp.h"
#include "privacy/pinset_state.h"
#include "privacy/random_source.h"
#include "proto/catalog.pb.h"
#include "proto/ping.pb.h"
#include "tests/test_certs.h"

namespace pinning::tests {

// ConfigFiles are the token file, catalog and initial parameters every test aggregator uses.
struct ConfigFiles {
  std::string token_file;
  std::string catalog_file;
  std::string params_file;
  v1::Catalog catalog;  // with its version set
};

// WriteConfigFiles writes the files into `dir` (which must exist).
absl::StatusOr<ConfigFiles> WriteConfigFiles(const std::string& dir);

// MakeTempDir creates a fresh directory under the test's temporary directory.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);

// TlsChannel returns a channel to `address` trusting `ca_pem` for the name "localhost".
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem);

class TestEnv {
 public:
  static constexpr char kReaderToken[] = "reader-token-for-tests-0001";
  static constexpr char kAdminToken[] = "admin-token-for-tests-0001";
  static constexpr char kAdminName[] = "alice";
  static constexpr int kNumPinsets = 4;

  // Create writes the files and starts the server; `customize` may change the options first.
  static absl::StatusOr<std::unique_ptr<TestEnv>> Create(
      std::function<void(aggregator::ServerOptions&)> customize = {});

  ~TestEnv();

  aggregator::Server& server() { return *server_; }
  const aggregator::ServerOptions& options() const { return options_; }
  const TestCertificates& certs() const { return certs_; }
  const std::string& dir() const { return dir_; }
  const v1::Catalog& catalog() const { return catalog_; }
  const std::string& catalog_version() const { return catalog_version_; }
  std::string address() const { return server_->address(); }

  // Restart shuts the server down and starts it again on the same data directory (new port).
  absl::Status Restart();

  // Channel returns a TLS channel trusting the test CA (created once, reused).
  std::shared_ptr<grpc::Channel> Channel();
  // Context returns a client context with a deadline and, when `token` is non-empty, the
  // `authorization: Bearer` header.
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "",
                                               absl::Duration timeout = absl::Seconds(10)) const;

  // OpenStoreReadOnly opens a second connection to the server's database (SQLite WAL lets it read
  // while the server writes), for checking counts directly.
  absl::StatusOr<std::unique_ptr<aggregator::SqliteStore>> OpenStore() const;

  // Metric returns the value of one sample line of the Prometheus export, e.g.
  // Metric("pinning_ingest_rejected_total{reason=\"bad_ping_id\"}"); 0 when absent.
  double Metric(const std::string& sample) const;

 private:
  TestEnv() = default;
  absl::Status StartServer();

  std::string dir_;
  TestCertificates certs_;
  v1::Catalog catalog_;
  std::string catalog_version_;
  aggregator::ServerOptions options_;
  std::unique_ptr<aggregator::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string channel_address_;
};

// Today returns the server's notion of today, "YYYY-MM-DD" (UTC).
std::string Today();

// RandomPingId returns 16 bytes from `rng`.
std::string RandomPingId(privacy::RandomSource& rng);

// PingMaker encodes daily states into pings for one params version with the privacy encoder, one
// fresh client secret per ping (like a population of distinct clients).
class PingMaker {
 public:
  // `params` must be the published version the pings claim.
  static absl::StatusOr<PingMaker> Create(const v1::ParamsVersion& params, int num_pinsets,
                                          uint64_t seed);

  // Make returns a valid ping for `day` with `states` (K of them) and dimensions chrome/stable/131.
  absl::StatusOr<v1::Ping> Make(const std::vector<privacy::PinsetState>& states,
                                const std::string& day);

  privacy::RandomSource& rng() { return *rng_; }

 private:
  PingMaker() = default;
  v1::ParamsVersion params_;
  int num_pinsets_ = 0;
  std::unique_ptr<privacy::SeededRandomSource> rng_;
};

// ContextWithDeadline returns a client context whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration timeout);

// MakePings fetches the current params over `channel` (Params.Get) and encodes `count` pings for
// today with PingMaker(seed); ping i has pinset k in state (i * state_stride + k) % 3, so all three
// states occur.
absl::StatusOr<std::vector<v1::Ping>> MakePings(const std::shared_ptr<grpc::Channel>& channel,
                                                int count, uint64_t seed, int state_stride);

// SubmitFor wraps a ping in a SubmitRequest.
v1::SubmitRequest SubmitFor(const v1::Ping& ping);

// CountSnapshot is every stored count row keyed by its identity, for before/after comparisons.
using CountSnapshot = std::map<std::string, std::vector<int64_t>>;
absl::StatusOr<CountSnapshot> SnapshotCounts(aggregator::CountStore& store);

}  // namespace pinning::tests

#endif  // TESTS_TEST_ENV_H_
