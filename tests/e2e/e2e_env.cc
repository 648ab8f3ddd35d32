#include "tests/e2e/e2e_env.h"

#include <stdlib.h>

#include <fstream>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace pinning::tests {

absl::StatusOr<std::unique_ptr<AggregatorEnv>> AggregatorEnv::Start(
    const std::function<void(aggregator::ServerOptions&)>& customize) {
  std::unique_ptr<AggregatorEnv> env(new AggregatorEnv());
  std::string pattern = ::testing::TempDir() + "/e2e-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  env->dir_ = pattern;
  absl::StatusOr<TestCertificates> certs = MakeTestCertificates(env->dir_ + "/certs");
  if (!certs.ok()) return certs.status();
  env->certs_ = *std::move(certs);
  const std::string token_file = env->dir_ + "/tokens";
  {
    std::ofstream out(token_file);
    out << kAdminToken << " privacy-admin e2e\n";
    if (!out) return absl::InternalError("cannot write the token file");
  }
  aggregator::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.tls_cert_file = env->certs_.server_cert_file;
  options.tls_key_file = env->certs_.server_key_file;
  options.data_dir = env->dir_ + "/data";
  options.token_file = token_file;
  options.sqlite_cache_kib = 4096;
  options.max_epsilon_one = std::numeric_limits<double>::infinity();
  options.max_epsilon_inf = std::numeric_limits<double>::infinity();
  options.shutdown_grace = absl::Seconds(2);
  if (customize) customize(options);
  absl::StatusOr<std::unique_ptr<aggregator::Server>> server =
      aggregator::Server::Start(std::move(options));
  if (!server.ok()) return server.status();
  env->server_ = *std::move(server);
  return env;
}

AggregatorEnv::~AggregatorEnv() {
  if (server_ != nullptr) server_->Shutdown();
}

std::string AggregatorEnv::target() const { return absl::StrCat("localhost:", server_->port()); }

absl::StatusOr<std::unique_ptr<client::GrpcIngestTransport>> AggregatorEnv::Transport() const {
  client::GrpcTransportOptions options;
  options.target = target();
  options.ca_pem = certs_.ca_pem;
  return client::GrpcIngestTransport::Create(options);
}

absl::StatusOr<std::unique_ptr<client::sim::GrpcAggregatorClient>> AggregatorEnv::Admin() const {
  client::sim::AggregatorClientOptions options;
  options.target = target();
  options.ca_pem = certs_.ca_pem;
  options.token = kAdminToken;
  return client::sim::GrpcAggregatorClient::Create(options);
}

double AggregatorEnv::Metric(const std::string& sample) const {
  for (absl::string_view line : absl::StrSplit(server_->MetricsText(), '\n')) {
    if (line.size() > sample.size() && line.substr(0, sample.size()) == sample &&
        line[sample.size()] == ' ') {
      double value = 0;
      if (absl::SimpleAtod(line.substr(sample.size() + 1), &value)) return value;
    }
  }
  return 0;
}

}  // namespace pinning::tests
