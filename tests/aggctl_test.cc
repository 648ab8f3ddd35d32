// Tests of the aggctl binary against a running aggregator over TLS: listing, publishing (explicit
// and tuned parameters, catalogs), events, rates, tokens from a file or the environment, and
// counts export/import (native and google/rappor formats).
#include <stdlib.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "privacy/pinset_state.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"
#include "proto/query.pb.h"
#include "tests/subprocess.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

using ::privacy::PinsetState;

class AggctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestEnv>> env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    reader_file_ = env_->dir() + "/reader.token";
    admin_file_ = env_->dir() + "/admin.token";
    std::ofstream(reader_file_) << TestEnv::kReaderToken << "\n";
    std::ofstream(admin_file_) << TestEnv::kAdminToken << "\n";
    ::unsetenv("AGGCTL_TOKEN");
  }

  // Aggctl runs aggctl with the connection flags and `args`.
  CommandResult Aggctl(const std::vector<std::string>& args, const std::string& token_file = "") {
    std::vector<std::string> argv = {RunfilePath("aggregator/serve/aggctl"),
                                     "--server=" + env_->address(),
                                     "--ca_file=" + env_->certs().ca_file, "--timeout_s=10"};
    if (!token_file.empty()) argv.push_back("--token_file=" + token_file);
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, env_->dir());
  }

  void SendPings(int count) {
    v1::GetParamsResponse params;
    auto context = env_->Context();
    ASSERT_TRUE(v1::Params::NewStub(env_->Channel())
                    ->Get(context.get(), v1::GetParamsRequest(), &params)
                    .ok());
    absl::StatusOr<PingMaker> maker = PingMaker::Create(params.current(), 4, 5);
    ASSERT_TRUE(maker.ok());
    context = env_->Context();
    v1::SubmitBatchResponse response;
    auto writer = v1::Ingest::NewStub(env_->Channel())->SubmitBatch(context.get(), &response);
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<v1::Ping> ping = maker->Make(
          {PinsetState::kViolated, PinsetState::kCheckedOk, PinsetState::kCheckedOk,
           PinsetState::kNotChecked},
          Today());
      ASSERT_TRUE(ping.ok());
      ASSERT_TRUE(writer->Write(SubmitFor(*ping)));
    }
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    ASSERT_EQ(response.accepted(), static_cast<uint64_t>(count));
  }

  std::unique_ptr<TestEnv> env_;
  std::string reader_file_;
  std::string admin_file_;
};

TEST_F(AggctlTest, ListsParamsWithATokenFromAFileOrTheEnvironment) {
  CommandResult result = Aggctl({"params"}, reader_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("epsilon_one"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("4.0866"), std::string::npos) << result.out;  // 8 ln(5/3)
  EXPECT_NE(result.out.find("8.7889"), std::string::npos) << result.out;  // 8 ln 3

  result = Aggctl({"--json", "params"}, reader_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  v1::ListParamsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(result.out, &parsed).ok()) << result.out;
  ASSERT_EQ(parsed.versions_size(), 1);
  EXPECT_NEAR(parsed.versions(0).epsilon_inf(), 8 * std::log(3.0), 1e-9);

  // No token at all: UNAUTHENTICATED, exit 1.
  result = Aggctl({"params"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no token"), std::string::npos) << result.err;

  // The token from the environment.
  ::setenv("AGGCTL_TOKEN", TestEnv::kReaderToken, 1);
  result = Aggctl({"params"});
  ::unsetenv("AGGCTL_TOKEN");
  EXPECT_EQ(result.exit_code, 0) << result.err;

  // Client params need no token.
  result = Aggctl({"client-params"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(env_->catalog_version()), std::string::npos) << result.out;
}

TEST_F(AggctlTest, PublishesExplicitAndTunedParamsAndReportsRefusals) {
  // A reader may not publish.
  CommandResult result =
      Aggctl({"publish-params", "--f=0.75", "--p=0.25", "--q=0.75", "--s=1"}, reader_file_);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("PERMISSION_DENIED"), std::string::npos) << result.err;

  // Dry run: f = 0.75, s = 1 of 4: eps1 = 2 ln(0.5625 / 0.4375) = 0.5026, eps_inf = 8 ln(5/3).
  result = Aggctl({"publish-params", "--f=0.75", "--p=0.25", "--q=0.75", "--s=1", "--dry_run"},
                  admin_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("dry run"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("0.5026"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("4.0866"), std::string::npos) << result.out;

  // Above the ceiling (eps_inf 15.57 > 10): refused with both values.
  result = Aggctl({"publish-params", "--f=0.25", "--p=0.25", "--q=0.75", "--s=1"}, admin_file_);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("FAILED_PRECONDITION"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("15.5673"), std::string::npos) << result.err;

  // Tuned for eps1 <= 2 and eps_inf <= 6 with the privacy tuner, published as version 2.
  result = Aggctl({"--json", "publish-params", "--target_epsilon_one=2",
                   "--target_epsilon_inf=6", "--note=tuned"},
                  admin_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  v1::PublishParamsResponse published;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(result.out, &published).ok())
      << result.out;
  EXPECT_EQ(published.published().version(), 2u);
  EXPECT_LE(published.published().epsilon_one(), 2 + 1e-9);
  EXPECT_LE(published.published().epsilon_inf(), 6 + 1e-9);
  EXPECT_GT(published.published().epsilon_one(), 1.0);  // the tuner spends the budget
  EXPECT_EQ(published.published().note(), "tuned");
  EXPECT_EQ(published.published().published_by(), TestEnv::kAdminName);

  result = Aggctl({"audit", "--limit=1"}, admin_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("publish_params"), std::string::npos) << result.out;
}

TEST_F(AggctlTest, PublishesCatalogsAndRecordsEvents) {
  // The catalog as JSON, with one pinset promoted.
  v1::Catalog catalog = env_->catalog();
  catalog.clear_version();
  catalog.mutable_pinsets(2)->set_mode(v1::PIN_MODE_ENFORCE);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(catalog, &json).ok());
  const std::string path = env_->dir() + "/new_catalog.json";
  std::ofstream(path) << json;
  CommandResult result = Aggctl({"publish-catalog", "--catalog_file=" + path}, admin_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("catalog version "), std::string::npos);
  const std::string version = result.out.substr(result.out.find("catalog version ") + 16, 64);
  EXPECT_NE(version, env_->catalog_version());

  result = Aggctl({"catalog", "--catalog_version=" + version}, reader_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("tor"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("4 pinsets"), std::string::npos) << result.out;

  result = Aggctl({"record-event", "--day=2024-03-01", "--kind=promote_to_enforce",
                   "--organization=Tor", "--pinset=tor", "--description=tor enforced"},
                  admin_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = Aggctl({"record-event", "--day=2024-03-01", "--kind=bogus"}, admin_file_);
  EXPECT_EQ(result.exit_code, 1);
  result = Aggctl({"events", "--organization=Tor"}, reader_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("promote_to_enforce"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("tor enforced"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(TestEnv::kAdminName), std::string::npos) << result.out;
}

TEST_F(AggctlTest, ShowsRatesAsTableAndJson) {
  SendPings(500);
  const std::string today = Today();
  CommandResult result = Aggctl(
      {"rates", "--from=" + today, "--to=" + today, "--group_by=pinset"}, reader_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* key : {"google", "google-backup", "tor", "mozilla"}) {
    EXPECT_NE(result.out.find(key), std::string::npos) << result.out;
  }
  EXPECT_NE(result.out.find("500"), std::string::npos) << result.out;

  result = Aggctl({"--json", "rates", "--from=" + today, "--to=" + today, "--keys=Google"},
                  reader_file_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  v1::RatesResponse rates;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(result.out, &rates).ok()) << result.out;
  ASSERT_EQ(rates.series_size(), 1);
  EXPECT_EQ(rates.series(0).key(), "Google");

  result = Aggctl({"rates", "--from=" + today, "--to=2000-01-01"}, reader_file_);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("INVALID_ARGUMENT"), std::string::npos) << result.err;
}

TEST_F(AggctlTest, ExportsAndImportsCounts) {
  SendPings(200);
  const std::string exported = env_->dir() + "/counts.csv";
  CommandResult result =
      Aggctl({"export-counts", "--data_dir=" + env_->options().data_dir, "--out=" + exported});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string csv = ReadFileOrEmpty(exported);
  ASSERT_EQ(csv.rfind("day,params_version,catalog_version", 0), 0u) << csv;
  // One group row and four pinset rows for today.
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1u + 5u) << csv;
  EXPECT_NE(csv.find(absl::StrCat(Today(), ",1,", env_->catalog_version(),
                                  ",chrome,stable,131,-1,200,")),
            std::string::npos)
      << csv;

  // Import into an empty data directory, export again: identical.
  const std::string other_dir = env_->dir() + "/restored";
  result = Aggctl({"import-counts", "--data_dir=" + other_dir, "--in=" + exported});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string again = env_->dir() + "/again.csv";
  result = Aggctl({"export-counts", "--data_dir=" + other_dir, "--out=" + again});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ReadFileOrEmpty(again), csv);

  // google/rappor's formats: params.csv is k,h,m,p,q,f; counts.csv rows start with N = 200.
  const std::string counts = env_->dir() + "/rappor_counts.csv";
  const std::string params = env_->dir() + "/rappor_params.csv";
  result = Aggctl({"export-counts", "--data_dir=" + env_->options().data_dir,
                   "--format=rappor", "--params_version=1", "--out=" + counts,
                   "--rappor_params_out=" + params});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ReadFileOrEmpty(params).rfind("k,h,m,p,q,f\n", 0), 0u) << ReadFileOrEmpty(params);
  EXPECT_EQ(ReadFileOrEmpty(counts).rfind("200,", 0), 0u) << ReadFileOrEmpty(counts);
}

TEST_F(AggctlTest, BadUsageExitsTwo) {
  EXPECT_EQ(Aggctl({"frobnicate"}, reader_file_).exit_code, 2);
  EXPECT_EQ(Aggctl({}, reader_file_).exit_code, 2);
}

}  // namespace
}  // namespace pinning::tests
