#include "tests/test_env.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/registry/catalog_version.h"
#include "aggregator/storage/day.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "privacy/encoder.h"
#include "privacy/params.h"
#include "proto/params.grpc.pb.h"

namespace pinning::tests {
namespace {

constexpr char kCatalogText[] = R"pb(
  pinsets { index: 0 name: "google" organization: "Google" mode: PIN_MODE_ENFORCE }
  pinsets { index: 1 name: "google-backup" organization: "Google" mode: PIN_MODE_TEST }
  pinsets { index: 2 name: "tor" organization: "Tor" mode: PIN_MODE_TEST }
  pinsets { index: 3 name: "mozilla" organization: "Mozilla" mode: PIN_MODE_ENFORCE }
  hosts { host: "google.com" include_subdomains: true pinset_index: 0 }
  hosts { host: "torproject.org" include_subdomains: true pinset_index: 2 }
  hosts { host: "mozilla.org" pinset_index: 3 }
  source: "tests/test_env.cc"
)pb";

constexpr char kParamsText[] = "f: 0.5 p: 0.25 q: 0.75 pinsets_per_ping: 4 bits_per_pinset: 2\n";

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ConfigFiles> WriteConfigFiles(const std::string& dir) {
  ConfigFiles files;
  if (!google::protobuf::TextFormat::ParseFromString(kCatalogText, &files.catalog)) {
    return absl::InternalError("bad test catalog");
  }
  // One made-up acceptable key hash per pinset: browsers refuse a pinset without one.
  for (int i = 0; i < files.catalog.pinsets_size(); ++i) {
    files.catalog.mutable_pinsets(i)->add_spki_sha256(std::string(32, static_cast<char>(0x10 + i)));
  }
  files.catalog.set_version(aggregator::CatalogVersion(files.catalog));
  files.token_file = dir + "/tokens";
  files.catalog_file = dir + "/catalog.textproto";
  files.params_file = dir + "/params.textproto";
  const std::string tokens =
      absl::StrCat(TestEnv::kReaderToken, " reader dashboard\n", TestEnv::kAdminToken,
                   " privacy-admin ", TestEnv::kAdminName, "\n");
  if (auto s = WriteFile(files.token_file, tokens); !s.ok()) return s;
  if (auto s = WriteFile(files.catalog_file, files.catalog.DebugString()); !s.ok()) return s;
  if (auto s = WriteFile(files.params_file, kParamsText); !s.ok()) return s;
  return files;
}

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", prefix, "XXXXXX");
  if (::mkdtemp(path.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  return path;
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  grpc::ChannelArguments args;
  // The certificate names localhost; the channel connects to 127.0.0.1.
  args.SetSslTargetNameOverride("localhost");
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

absl::StatusOr<std::unique_ptr<TestEnv>> TestEnv::Create(
    std::function<void(aggregator::ServerOptions&)> customize) {
  std::unique_ptr<TestEnv> env(new TestEnv());
  absl::StatusOr<std::string> dir = MakeTempDir("env");
  if (!dir.ok()) return dir.status();
  env->dir_ = *dir;

  absl::StatusOr<TestCertificates> certs = MakeTestCertificates(env->dir_ + "/certs");
  if (!certs.ok()) return certs.status();
  env->certs_ = *std::move(certs);
  absl::StatusOr<ConfigFiles> files = WriteConfigFiles(env->dir_);
  if (!files.ok()) return files.status();
  env->catalog_ = files->catalog;
  env->catalog_version_ = files->catalog.version();

  aggregator::ServerOptions& options = env->options_;
  options.listen_address = "127.0.0.1:0";
  options.tls_cert_file = env->certs_.server_cert_file;
  options.tls_key_file = env->certs_.server_key_file;
  options.data_dir = env->dir_ + "/data";
  options.token_file = files->token_file;
  options.initial_catalog_file = files->catalog_file;
  options.initial_params_file = files->params_file;
  options.max_epsilon_one = 6.0;
  options.max_epsilon_inf = 10.0;
  options.sqlite_cache_kib = 8 * 1024;
  options.shutdown_grace = absl::Seconds(5);
  if (customize) customize(options);
  if (auto s = env->StartServer(); !s.ok()) return s;
  return env;
}

TestEnv::~TestEnv() {
  if (server_ != nullptr) server_->Shutdown();
}

absl::Status TestEnv::StartServer() {
  absl::StatusOr<std::unique_ptr<aggregator::Server>> server = aggregator::Server::Start(options_);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  return absl::OkStatus();
}

absl::Status TestEnv::Restart() {
  server_->Shutdown();
  server_.reset();
  channel_.reset();
  return StartServer();
}

std::shared_ptr<grpc::Channel> TestEnv::Channel() {
  if (channel_ == nullptr || channel_address_ != server_->address()) {
    channel_ = TlsChannel(server_->address(), certs_.ca_pem);
    channel_address_ = server_->address();
  }
  return channel_;
}

std::unique_ptr<grpc::ClientContext> TestEnv::Context(const std::string& token,
                                                      absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return context;
}

absl::StatusOr<std::unique_ptr<aggregator::SqliteStore>> TestEnv::OpenStore() const {
  aggregator::SqliteStoreOptions options;
  options.path = options_.data_dir + "/aggregator.db";
  options.cache_size_kib = 1024;
  return aggregator::SqliteStore::Open(options);
}

double TestEnv::Metric(const std::string& sample) const {
  const std::string text = server_->MetricsText();
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.size() > sample.size() && line.substr(0, sample.size()) == sample &&
        line[sample.size()] == ' ') {
      double value = 0;
      if (absl::SimpleAtod(line.substr(sample.size() + 1), &value)) return value;
    }
  }
  return 0;
}

std::string Today() { return aggregator::FormatDay(aggregator::DayFromTime(absl::Now())); }

std::string RandomPingId(privacy::RandomSource& rng) {
  std::string id(16, '\0');
  for (int i = 0; i < 2; ++i) {
    const uint64_t word = rng.NextUint64();
    for (int b = 0; b < 8; ++b) id[i * 8 + b] = static_cast<char>((word >> (8 * b)) & 0xff);
  }
  return id;
}

absl::StatusOr<PingMaker> PingMaker::Create(const v1::ParamsVersion& params, int num_pinsets,
                                            uint64_t seed) {
  PingMaker maker;
  maker.params_ = params;
  maker.num_pinsets_ = num_pinsets;
  maker.rng_ = std::make_unique<privacy::SeededRandomSource>(seed);
  return maker;
}

absl::StatusOr<v1::Ping> PingMaker::Make(const std::vector<privacy::PinsetState>& states,
                                         const std::string& day) {
  absl::StatusOr<privacy::Params> params =
      privacy::ParamsBuilder()
          .SetF(params_.params().f())
          .SetP(params_.params().p())
          .SetQ(params_.params().q())
          .SetPinsetsPerPing(static_cast<int>(params_.params().pinsets_per_ping()))
          .SetBitsPerPinset(static_cast<int>(params_.params().bits_per_pinset()))
          .Build();
  if (!params.ok()) return params.status();
  privacy::EncoderConfig config{*params, num_pinsets_, params_.version(),
                                params_.catalog_version()};
  std::vector<uint8_t> secret(privacy::kClientSecretSize);
  for (size_t i = 0; i < secret.size(); i += 8) {
    const uint64_t word = rng_->NextUint64();
    for (int b = 0; b < 8; ++b) secret[i + b] = static_cast<uint8_t>(word >> (8 * b));
  }
  absl::StatusOr<privacy::Encoder> encoder = privacy::Encoder::Create(config, secret, rng_.get());
  if (!encoder.ok()) return encoder.status();
  absl::StatusOr<privacy::EncodedReport> report = encoder->Encode(states);
  if (!report.ok()) return report.status();

  v1::Ping ping;
  ping.set_ping_id(RandomPingId(*rng_));
  ping.set_day(day);
  ping.set_params_version(params_.version());
  ping.set_catalog_version(params_.catalog_version());
  for (uint32_t index : report->pinset_indices) ping.add_pinset_indices(index);
  ping.set_bits(std::string(report->bits.begin(), report->bits.end()));
  ping.mutable_dimensions()->set_product("chrome");
  ping.mutable_dimensions()->set_channel("stable");
  ping.mutable_dimensions()->set_major_version(131);
  return ping;
}

v1::SubmitRequest SubmitFor(const v1::Ping& ping) {
  v1::SubmitRequest request;
  *request.mutable_ping() = ping;
  return request;
}

absl::StatusOr<CountSnapshot> SnapshotCounts(aggregator::CountStore& store) {
  aggregator::CountQuery query;
  query.from_day = 0;
  query.to_day = 3000000;
  query.include_group_totals = true;
  CountSnapshot snapshot;
  absl::Status s = store.ForEachCount(query, [&](const aggregator::CountRow& row) {
    const std::string key =
        absl::StrCat(row.day, "|", row.params_version, "|", row.catalog_version, "|", row.product,
                     "|", row.channel, "|", row.major_version, "|", row.pinset);
    snapshot[key] = {row.reports, row.ones[0], row.ones[1], row.ones[2], row.ones[3]};
  });
  if (!s.ok()) return s;
  return snapshot;
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

absl::StatusOr<std::vector<v1::Ping>> MakePings(const std::shared_ptr<grpc::Channel>& channel,
                                                int count, uint64_t seed, int state_stride) {
  v1::GetParamsResponse params;
  auto context = ContextWithDeadline(absl::Seconds(10));
  grpc::Status status =
      v1::Params::NewStub(channel)->Get(context.get(), v1::GetParamsRequest(), &params);
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  absl::StatusOr<PingMaker> maker = PingMaker::Create(params.current(), TestEnv::kNumPinsets, seed);
  if (!maker.ok()) return maker.status();
  std::vector<v1::Ping> pings;
  const std::string today = Today();
  for (int i = 0; i < count; ++i) {
    std::vector<privacy::PinsetState> states(TestEnv::kNumPinsets);
    for (int k = 0; k < TestEnv::kNumPinsets; ++k) {
      states[k] = static_cast<privacy::PinsetState>((i * state_stride + k) % 3);
    }
    absl::StatusOr<v1::Ping> ping = maker->Make(states, today);
    if (!ping.ok()) return ping.status();
    pings.push_back(*std::move(ping));
  }
  return pings;
}

}  // namespace pinning::tests
