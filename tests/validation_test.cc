// Every ping validation rule end to end: a table of malformed or unacceptable pings, each sent over
// TLS gRPC to a running aggregator. For each one the test asserts the gRPC status code, the
// rejection counter of its reason (exactly +1), and that the stored counts did not change. The same
// table then goes through SubmitBatch, which must list every one as a Rejection with the same
// code and reason and count none of them.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/day.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "privacy/pinset_state.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"
#include "proto/query.grpc.pb.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

using ::privacy::PinsetState;

struct BadPing {
  std::string name;
  // Which params version the base ping uses: 1 (all 4 pinsets) or 2 (s = 2 of 4).
  int base;
  std::function<void(v1::Ping&)> mutate;
  grpc::StatusCode code;
  std::string reason;
};

std::string DayOffset(int days) {
  return aggregator::FormatDay(aggregator::DayFromTime(absl::Now()) + days);
}

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestEnv>> env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    admin_ = v1::Admin::NewStub(env_->Channel());
    ingest_ = v1::Ingest::NewStub(env_->Channel());

    // Version 2 reports s = 2 of the K = 4 pinsets: 4 bits in one byte, 4 padding bits.
    v1::PublishParamsRequest publish;
    publish.mutable_params()->set_f(0.75);
    publish.mutable_params()->set_p(0.25);
    publish.mutable_params()->set_q(0.75);
    publish.mutable_params()->set_pinsets_per_ping(2);
    publish.mutable_params()->set_bits_per_pinset(2);
    v1::PublishParamsResponse published;
    auto context = env_->Context(TestEnv::kAdminToken);
    grpc::Status status = admin_->PublishParams(context.get(), publish, &published);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(published.published().version(), 2u);
    v2_ = published.published();

    // A second catalog, stored but not the one any params version applies to.
    v1::PublishCatalogRequest catalog;
    *catalog.mutable_catalog() = env_->catalog();
    catalog.mutable_catalog()->clear_version();
    catalog.mutable_catalog()->mutable_pinsets(0)->set_name("google-2");
    v1::PublishCatalogResponse catalog_published;
    context = env_->Context(TestEnv::kAdminToken);
    ASSERT_TRUE(admin_->PublishCatalog(context.get(), catalog, &catalog_published).ok());
    other_catalog_ = catalog_published.version();

    v1::ListParamsResponse list;
    context = env_->Context(TestEnv::kReaderToken);
    ASSERT_TRUE(v1::Query::NewStub(env_->Channel())
                    ->ListParams(context.get(), v1::ListParamsRequest(), &list)
                    .ok());
    ASSERT_EQ(list.versions_size(), 2);
    v1_ = list.versions(0);
  }

  v1::Ping Base(int version) {
    absl::StatusOr<PingMaker> maker =
        PingMaker::Create(version == 1 ? v1_ : v2_, TestEnv::kNumPinsets, seed_++);
    EXPECT_TRUE(maker.ok());
    absl::StatusOr<v1::Ping> ping = maker->Make(
        {PinsetState::kViolated, PinsetState::kCheckedOk, PinsetState::kNotChecked,
         PinsetState::kCheckedOk},
        Today());
    EXPECT_TRUE(ping.ok()) << ping.status();
    return *ping;
  }

  std::vector<BadPing> Table() {
    const std::string other_catalog = other_catalog_;
    return {
        {"empty ping_id", 1, [](v1::Ping& p) { p.clear_ping_id(); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_ping_id"},
        {"15-byte ping_id", 1, [](v1::Ping& p) { p.set_ping_id(std::string(15, 'a')); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_ping_id"},
        {"17-byte ping_id", 1, [](v1::Ping& p) { p.set_ping_id(std::string(17, 'a')); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_ping_id"},
        {"no ping at all", 1, [](v1::Ping& p) { p.Clear(); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_ping_id"},
        {"day without zero padding", 1, [](v1::Ping& p) { p.set_day("2024-3-01"); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_day_format"},
        {"impossible date", 1, [](v1::Ping& p) { p.set_day("2024-02-30"); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_day_format"},
        {"empty day", 1, [](v1::Ping& p) { p.clear_day(); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_day_format"},
        {"day with a time", 1, [](v1::Ping& p) { p.set_day(Today() + "T00:00"); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_day_format"},
        {"day 5 days ahead", 1, [](v1::Ping& p) { p.set_day(DayOffset(5)); },
         grpc::StatusCode::FAILED_PRECONDITION, "day_in_future"},
        {"day 30 days ago", 1, [](v1::Ping& p) { p.set_day(DayOffset(-30)); },
         grpc::StatusCode::FAILED_PRECONDITION, "day_too_old"},
        {"no params_version", 1, [](v1::Ping& p) { p.clear_params_version(); },
         grpc::StatusCode::INVALID_ARGUMENT, "missing_params_version"},
        {"unknown params_version", 1, [](v1::Ping& p) { p.set_params_version(99); },
         grpc::StatusCode::FAILED_PRECONDITION, "unknown_params_version"},
        {"no catalog_version", 1, [](v1::Ping& p) { p.clear_catalog_version(); },
         grpc::StatusCode::INVALID_ARGUMENT, "missing_catalog_version"},
        {"unknown catalog_version", 1, [](v1::Ping& p) { p.set_catalog_version("abc"); },
         grpc::StatusCode::FAILED_PRECONDITION, "unknown_catalog_version"},
        {"catalog of other params", 1,
         [other_catalog](v1::Ping& p) { p.set_catalog_version(other_catalog); },
         grpc::StatusCode::INVALID_ARGUMENT, "params_catalog_mismatch"},
        {"indices when all pinsets are reported", 1, [](v1::Ping& p) { p.add_pinset_indices(0); },
         grpc::StatusCode::INVALID_ARGUMENT, "unexpected_pinset_indices"},
        {"one index when s = 2", 2, [](v1::Ping& p) { p.mutable_pinset_indices()->RemoveLast(); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_pinset_count"},
        {"three indices when s = 2", 2,
         [](v1::Ping& p) {
           p.clear_pinset_indices();
           for (uint32_t i : {0, 1, 2}) p.add_pinset_indices(i);
         },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_pinset_count"},
        {"descending indices", 2,
         [](v1::Ping& p) {
           p.clear_pinset_indices();
           p.add_pinset_indices(2);
           p.add_pinset_indices(1);
         },
         grpc::StatusCode::INVALID_ARGUMENT, "pinset_indices_not_ascending"},
        {"repeated index", 2,
         [](v1::Ping& p) {
           p.clear_pinset_indices();
           p.add_pinset_indices(1);
           p.add_pinset_indices(1);
         },
         grpc::StatusCode::INVALID_ARGUMENT, "pinset_indices_not_ascending"},
        {"index equal to K", 2,
         [](v1::Ping& p) {
           p.clear_pinset_indices();
           p.add_pinset_indices(1);
           p.add_pinset_indices(4);
         },
         grpc::StatusCode::INVALID_ARGUMENT, "pinset_index_out_of_range"},
        {"no bits", 1, [](v1::Ping& p) { p.clear_bits(); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_bits_length"},
        {"one byte too many", 1, [](v1::Ping& p) { p.mutable_bits()->push_back('\0'); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_bits_length"},
        {"padding bits set", 2,
         [](v1::Ping& p) { (*p.mutable_bits())[0] = static_cast<char>(p.bits()[0] | 0x10); },
         grpc::StatusCode::INVALID_ARGUMENT, "nonzero_bits_padding"},
        {"unknown product", 1, [](v1::Ping& p) { p.mutable_dimensions()->set_product("netscape"); },
         grpc::StatusCode::INVALID_ARGUMENT, "unknown_product"},
        {"upper-case product", 1,
         [](v1::Ping& p) { p.mutable_dimensions()->set_product("Chrome"); },
         grpc::StatusCode::INVALID_ARGUMENT, "unknown_product"},
        {"unknown channel", 1, [](v1::Ping& p) { p.mutable_dimensions()->set_channel("alpha"); },
         grpc::StatusCode::INVALID_ARGUMENT, "unknown_channel"},
        {"major version too high", 1,
         [](v1::Ping& p) { p.mutable_dimensions()->set_major_version(5000); },
         grpc::StatusCode::INVALID_ARGUMENT, "bad_major_version"},
        {"oversized ping", 1, [](v1::Ping& p) { p.set_bits(std::string(10000, '\0')); },
         grpc::StatusCode::INVALID_ARGUMENT, "ping_too_large"},
    };
  }

  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;
  v1::ParamsVersion v1_, v2_;
  std::string other_catalog_;
  uint64_t seed_ = 100;
};

TEST_F(ValidationTest, EveryRuleHasItsCodeCounterAndCountsNothing) {
  auto store = env_->OpenStore();
  ASSERT_TRUE(store.ok()) << store.status();
  // Start with some counts so "unchanged" is checked against non-empty data.
  for (int version : {1, 2}) {
    auto context = env_->Context();
    v1::SubmitResponse response;
    ASSERT_TRUE(ingest_->Submit(context.get(), SubmitFor(Base(version)), &response).ok());
  }
  const std::vector<BadPing> table = Table();
  ASSERT_GE(table.size(), 20u);
  for (const BadPing& bad : table) {
    SCOPED_TRACE(bad.name);
    v1::Ping ping = Base(bad.base);
    bad.mutate(ping);
    absl::StatusOr<CountSnapshot> before = SnapshotCounts(**store);
    ASSERT_TRUE(before.ok());
    ASSERT_FALSE(before->empty());
    const std::string counter =
        absl::StrCat("pinning_ingest_rejected_total{reason=\"", bad.reason, "\"}");
    const double counter_before = env_->Metric(counter);

    auto context = env_->Context();
    v1::SubmitResponse response;
    grpc::Status status = ingest_->Submit(context.get(), SubmitFor(ping), &response);
    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_NE(status.error_message().find(bad.reason), std::string::npos)
        << status.error_message();
    EXPECT_EQ(env_->Metric(counter), counter_before + 1);
    absl::StatusOr<CountSnapshot> after = SnapshotCounts(**store);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*after, *before);
  }

  // Control: a valid ping does change the counts, so the comparison above can fail.
  absl::StatusOr<CountSnapshot> before = SnapshotCounts(**store);
  auto context = env_->Context();
  v1::SubmitResponse response;
  ASSERT_TRUE(ingest_->Submit(context.get(), SubmitFor(Base(1)), &response).ok());
  absl::StatusOr<CountSnapshot> after = SnapshotCounts(**store);
  EXPECT_NE(*after, *before);
}

TEST_F(ValidationTest, SubmitBatchRejectsTheSameTableWithTheSameReasons) {
  auto store = env_->OpenStore();
  ASSERT_TRUE(store.ok());
  const std::vector<BadPing> table = Table();
  absl::StatusOr<CountSnapshot> before = SnapshotCounts(**store);
  ASSERT_TRUE(before.ok());

  auto context = env_->Context();
  v1::SubmitBatchResponse response;
  auto writer = ingest_->SubmitBatch(context.get(), &response);
  for (const BadPing& bad : table) {
    v1::Ping ping = Base(bad.base);
    bad.mutate(ping);
    ASSERT_TRUE(writer->Write(SubmitFor(ping)));
  }
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 0u);
  EXPECT_EQ(response.rejected(), table.size());
  ASSERT_EQ(response.rejections_size(), static_cast<int>(table.size()));
  for (size_t i = 0; i < table.size(); ++i) {
    SCOPED_TRACE(table[i].name);
    EXPECT_EQ(response.rejections(i).index(), i);
    EXPECT_EQ(response.rejections(i).code(), static_cast<int>(table[i].code));
    EXPECT_EQ(response.rejections(i).reason(), table[i].reason);
    EXPECT_FALSE(response.rejections(i).message().empty());
  }
  absl::StatusOr<CountSnapshot> after = SnapshotCounts(**store);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

}  // namespace
}  // namespace pinning::tests
