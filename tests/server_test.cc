// End-to-end tests of the aggregator over real gRPC with TLS: health and reflection, TLS trust,
// Params.Get, authentication and roles, publishing with the epsilon ceiling, exactly-once under
// retries, visibility of a report within 2 s, SubmitBatch accounting, and load shedding.
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "aggregator/storage/day.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "privacy/pinset_state.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"
#include "proto/query.grpc.pb.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

using ::privacy::PinsetState;
using ::testing::HasSubstr;

std::unique_ptr<TestEnv> MakeEnv(std::function<void(aggregator::ServerOptions&)> customize = {}) {
  absl::StatusOr<std::unique_ptr<TestEnv>> env = TestEnv::Create(std::move(customize));
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

v1::ParamsVersion CurrentParams(TestEnv& env) {
  auto stub = v1::Params::NewStub(env.Channel());
  auto context = env.Context();
  v1::GetParamsResponse response;
  grpc::Status status = stub->Get(context.get(), v1::GetParamsRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.current();
}

// Pings counted in the store on any day (sum of group totals).
int64_t StoredPings(TestEnv& env) {
  auto store = env.OpenStore();
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return -1;
  absl::StatusOr<CountSnapshot> snapshot = SnapshotCounts(**store);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  int64_t total = 0;
  for (const auto& [key, values] : *snapshot) {
    if (key.size() >= 3 && key.substr(key.size() - 3) == "|-1") total += values[0];
  }
  return total;
}

// ---- Health and reflection through the generic stub (their protos are not part of this
// repository, so the messages are written as raw protobuf bytes). ----

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

TEST(ServerTest, HealthServiceReportsServing) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  grpc::GenericStub stub(env->Channel());
  auto context = env->Context();
  grpc::ByteBuffer request = Bytes("");  // HealthCheckRequest{service: ""}
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(context.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ToString(response), std::string("\x08\x01", 2));  // status: SERVING (1)
}

TEST(ServerTest, ReflectionListsTheServices) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  grpc::GenericStub stub(env->Channel());
  grpc::CompletionQueue cq;
  auto context = env->Context();
  auto call = stub.PrepareCall(
      context.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  // ServerReflectionRequest{list_services: ""} = field 7, length-delimited, empty.
  call->Write(Bytes(std::string("\x3a\x00", 2)), reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  const std::string bytes = ToString(response);
  for (const char* service : {"pinning.v1.Ingest", "pinning.v1.Params", "pinning.v1.Query",
                              "pinning.v1.Admin", "grpc.health.v1.Health"}) {
    EXPECT_NE(bytes.find(service), std::string::npos) << service;
  }
}

TEST(ServerTest, ClientThatDoesNotTrustTheCaCannotConnect) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  absl::StatusOr<TestCertificates> other = MakeTestCertificates(env->dir() + "/other");
  ASSERT_TRUE(other.ok());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = other->ca_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(env->address(), grpc::SslCredentials(ssl), args);
  auto context = env->Context("", absl::Seconds(3));
  v1::GetParamsResponse response;
  grpc::Status status =
      v1::Params::NewStub(channel)->Get(context.get(), v1::GetParamsRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // Plaintext to a TLS port fails too.
  auto plain = grpc::CreateChannel(env->address(), grpc::InsecureChannelCredentials());
  context = env->Context("", absl::Seconds(3));
  status = v1::Params::NewStub(plain)->Get(context.get(), v1::GetParamsRequest(), &response);
  EXPECT_FALSE(status.ok());
}

TEST(ServerTest, ParamsGetServesCurrentVersionAndCatalogOnlyWhenNew) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  auto stub = v1::Params::NewStub(env->Channel());
  v1::GetParamsResponse response;
  auto context = env->Context();
  ASSERT_TRUE(stub->Get(context.get(), v1::GetParamsRequest(), &response).ok());
  EXPECT_EQ(response.current().version(), 1u);
  EXPECT_EQ(response.current().params().f(), 0.5);
  EXPECT_EQ(response.current().params().pinsets_per_ping(), 4u);
  EXPECT_EQ(response.current().catalog_version(), env->catalog_version());
  EXPECT_NEAR(response.current().epsilon_one(), 8 * std::log(0.625 / 0.375), 1e-9);
  EXPECT_NEAR(response.current().epsilon_inf(), 8 * std::log(3.0), 1e-9);
  EXPECT_EQ(response.current().published_by(), "aggregatord-config");
  EXPECT_EQ(response.catalog().version(), env->catalog_version());
  EXPECT_EQ(response.catalog().pinsets_size(), 4);

  v1::GetParamsRequest known;
  known.set_known_catalog_version(env->catalog_version());
  context = env->Context();
  ASSERT_TRUE(stub->Get(context.get(), known, &response).ok());
  EXPECT_FALSE(response.has_catalog());
  EXPECT_EQ(response.current().version(), 1u);
}

TEST(ServerTest, QueryAndAdminRequireTokensWithTheRightRole) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  auto query = v1::Query::NewStub(env->Channel());
  auto admin = v1::Admin::NewStub(env->Channel());
  v1::ListParamsResponse list;
  v1::ListAuditResponse audit;

  auto call_query = [&](const std::string& token) {
    auto context = env->Context(token);
    return query->ListParams(context.get(), v1::ListParamsRequest(), &list).error_code();
  };
  auto call_admin = [&](const std::string& token) {
    auto context = env->Context(token);
    return admin->ListAudit(context.get(), v1::ListAuditRequest(), &audit).error_code();
  };
  EXPECT_EQ(call_query(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call_query("not-a-known-token-000"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call_query(TestEnv::kReaderToken), grpc::StatusCode::OK);
  EXPECT_EQ(list.versions_size(), 1);
  EXPECT_EQ(call_query(TestEnv::kAdminToken), grpc::StatusCode::OK);
  EXPECT_EQ(call_admin(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call_admin("not-a-known-token-000"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call_admin(TestEnv::kReaderToken), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call_admin(TestEnv::kAdminToken), grpc::StatusCode::OK);

  // A malformed header (no "Bearer ") is UNAUTHENTICATED too.
  auto context = env->Context();
  context->AddMetadata("authorization", TestEnv::kReaderToken);
  EXPECT_EQ(query->ListParams(context.get(), v1::ListParamsRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Every Query and Admin method checks, not just the two above.
  v1::RatesResponse rates;
  v1::Catalog catalog;
  v1::EventsResponse events;
  v1::PublishParamsResponse published;
  v1::PublishCatalogResponse catalog_published;
  v1::RolloutEvent event;
  context = env->Context();
  EXPECT_EQ(query->Rates(context.get(), v1::RatesRequest(), &rates).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  context = env->Context();
  EXPECT_EQ(query->Catalog(context.get(), v1::CatalogRequest(), &catalog).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  context = env->Context();
  EXPECT_EQ(query->Events(context.get(), v1::EventsRequest(), &events).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  context = env->Context(TestEnv::kReaderToken);
  EXPECT_EQ(admin->PublishParams(context.get(), v1::PublishParamsRequest(), &published)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  context = env->Context(TestEnv::kReaderToken);
  EXPECT_EQ(admin->PublishCatalog(context.get(), v1::PublishCatalogRequest(), &catalog_published)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  context = env->Context(TestEnv::kReaderToken);
  EXPECT_EQ(admin->RecordEvent(context.get(), v1::RolloutEvent(), &event).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Nothing was published by the refused calls.
  EXPECT_EQ(CurrentParams(*env).version(), 1u);
}

v1::PublishParamsRequest Publish(double f, double p, double q, uint32_t s, bool dry_run) {
  v1::PublishParamsRequest request;
  request.mutable_params()->set_f(f);
  request.mutable_params()->set_p(p);
  request.mutable_params()->set_q(q);
  request.mutable_params()->set_pinsets_per_ping(s);
  request.mutable_params()->set_bits_per_pinset(2);
  request.set_dry_run(dry_run);
  request.set_note("test");
  return request;
}

TEST(ServerTest, ReloadTokensRotatesThemWithoutARestart) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  auto query = v1::Query::NewStub(env->Channel());
  v1::ListParamsResponse list;
  auto call_query = [&](const std::string& token) {
    auto context = env->Context(token);
    return query->ListParams(context.get(), v1::ListParamsRequest(), &list).error_code();
  };
  ASSERT_EQ(call_query(TestEnv::kReaderToken), grpc::StatusCode::OK);
  constexpr char kRotated[] = "rotated-reader-token-0002";

  // The file now holds a new reader token and no longer the old one.
  const std::string& file = env->options().token_file;
  ASSERT_FALSE(file.empty());
  std::ofstream(file) << kRotated << " reader dashboard\n"
                      << TestEnv::kAdminToken << " privacy-admin " << TestEnv::kAdminName << "\n";
  EXPECT_EQ(call_query(kRotated), grpc::StatusCode::UNAUTHENTICATED);  // not before the reload
  ASSERT_TRUE(env->server().ReloadTokens().ok());
  EXPECT_EQ(call_query(kRotated), grpc::StatusCode::OK);
  EXPECT_EQ(call_query(TestEnv::kReaderToken), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call_query(TestEnv::kAdminToken), grpc::StatusCode::OK);

  // A broken file is refused, naming the line, and the tokens in use stay.
  std::ofstream(file) << kRotated << " reader dashboard\nshort reader x\n";
  absl::Status broken = env->server().ReloadTokens();
  EXPECT_EQ(broken.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(broken.message()), HasSubstr("line 2"));
  EXPECT_EQ(call_query(kRotated), grpc::StatusCode::OK);
  EXPECT_EQ(call_query(TestEnv::kAdminToken), grpc::StatusCode::OK);
  std::filesystem::remove(file);
  EXPECT_EQ(env->server().ReloadTokens().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(call_query(kRotated), grpc::StatusCode::OK);
  EXPECT_EQ(env->Metric("pinning_token_reloads_total{result=\"ok\"}"), 1);
  EXPECT_EQ(env->Metric("pinning_token_reloads_total{result=\"error\"}"), 2);
}

TEST(ServerTest, PublishParamsEnforcesTheEpsilonCeilingAndAudits) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  auto admin = v1::Admin::NewStub(env->Channel());
  v1::PublishParamsResponse response;

  // f = 0.25 on K = 4 pinsets x 2 bits: eps_inf = 8 ln 7 = 15.567 > 10.
  auto context = env->Context(TestEnv::kAdminToken);
  grpc::Status status =
      admin->PublishParams(context.get(), Publish(0.25, 0.25, 0.75, 1, false), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("epsilon_inf 15.5673"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("ceiling 10.0000"), std::string::npos);
  // The dry run applies the same check.
  context = env->Context(TestEnv::kAdminToken);
  status = admin->PublishParams(context.get(), Publish(0.25, 0.25, 0.75, 1, true), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // p >= q is malformed.
  context = env->Context(TestEnv::kAdminToken);
  status = admin->PublishParams(context.get(), Publish(0.5, 0.75, 0.25, 1, false), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CurrentParams(*env).version(), 1u);

  // A dry run within the ceilings: f = 0.75, s = 1: eps1 = 2 ln(q*/p*) with p* = 0.4375,
  // q* = 0.5625; eps_inf = 8 ln((1 - 0.375) / 0.375) = 8 ln(5/3).
  context = env->Context(TestEnv::kAdminToken);
  status = admin->PublishParams(context.get(), Publish(0.75, 0.25, 0.75, 1, true), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.published().version(), 0u);
  EXPECT_NEAR(response.published().epsilon_one(), 2 * std::log(0.5625 / 0.4375), 1e-9);
  EXPECT_NEAR(response.published().epsilon_inf(), 8 * std::log(5.0 / 3.0), 1e-9);
  EXPECT_EQ(CurrentParams(*env).version(), 1u);  // not published

  // Publishing it for real makes version 2 current for clients.
  context = env->Context(TestEnv::kAdminToken);
  status = admin->PublishParams(context.get(), Publish(0.75, 0.25, 0.75, 1, false), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.published().version(), 2u);
  EXPECT_EQ(response.published().published_by(), TestEnv::kAdminName);
  const v1::ParamsVersion current = CurrentParams(*env);
  EXPECT_EQ(current.version(), 2u);
  EXPECT_EQ(current.params().pinsets_per_ping(), 1u);

  // The audit log has the publication with old and new values and both epsilons.
  v1::ListAuditResponse audit;
  context = env->Context(TestEnv::kAdminToken);
  ASSERT_TRUE(admin->ListAudit(context.get(), v1::ListAuditRequest(), &audit).ok());
  ASSERT_GE(audit.records_size(), 1);
  const v1::AuditRecord& newest = audit.records(0);
  EXPECT_EQ(newest.action(), "publish_params");
  EXPECT_EQ(newest.actor(), TestEnv::kAdminName);
  EXPECT_NE(newest.old_value().find("\"version\":1"), std::string::npos) << newest.old_value();
  EXPECT_NE(newest.new_value().find("\"version\":2"), std::string::npos) << newest.new_value();
  EXPECT_NE(newest.new_value().find("\"epsilon_one\""), std::string::npos);
  EXPECT_NE(newest.new_value().find("\"epsilon_inf\""), std::string::npos);

  // ListParams shows both versions, oldest first.
  auto query = v1::Query::NewStub(env->Channel());
  v1::ListParamsResponse list;
  context = env->Context(TestEnv::kReaderToken);
  ASSERT_TRUE(query->ListParams(context.get(), v1::ListParamsRequest(), &list).ok());
  ASSERT_EQ(list.versions_size(), 2);
  EXPECT_EQ(list.versions(1).version(), 2u);
}

TEST(ServerTest, PublishedParamsSurviveRestart) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  auto admin = v1::Admin::NewStub(env->Channel());
  v1::PublishParamsResponse response;
  auto context = env->Context(TestEnv::kAdminToken);
  ASSERT_TRUE(
      admin->PublishParams(context.get(), Publish(0.75, 0.25, 0.75, 2, false), &response).ok());
  ASSERT_TRUE(env->Restart().ok());
  const v1::ParamsVersion current = CurrentParams(*env);
  EXPECT_EQ(current.version(), 2u);
  EXPECT_EQ(current.params().pinsets_per_ping(), 2u);
}

TEST(ServerTest, RetriedPingIsCountedExactlyOnce) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  absl::StatusOr<PingMaker> maker = PingMaker::Create(CurrentParams(*env), 4, 7);
  ASSERT_TRUE(maker.ok());
  absl::StatusOr<v1::Ping> ping = maker->Make(
      {PinsetState::kViolated, PinsetState::kCheckedOk, PinsetState::kNotChecked,
       PinsetState::kCheckedOk},
      Today());
  ASSERT_TRUE(ping.ok()) << ping.status();
  auto ingest = v1::Ingest::NewStub(env->Channel());

  // The same ping, sent 16 times from 8 threads at once, then once more.
  std::atomic<int> counted{0}, duplicates{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2; ++i) {
        auto context = env->Context();
        v1::SubmitResponse response;
        grpc::Status status = ingest->Submit(context.get(), SubmitFor(*ping), &response);
        if (!status.ok()) {
          errors.fetch_add(1);
        } else if (response.duplicate()) {
          duplicates.fetch_add(1);
        } else {
          counted.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(counted.load(), 1);
  EXPECT_EQ(duplicates.load(), 15);
  EXPECT_EQ(StoredPings(*env), 1);

  // After a restart the id is still known.
  ASSERT_TRUE(env->Restart().ok());
  ingest = v1::Ingest::NewStub(env->Channel());
  auto context = env->Context();
  v1::SubmitResponse response;
  ASSERT_TRUE(ingest->Submit(context.get(), SubmitFor(*ping), &response).ok());
  EXPECT_TRUE(response.duplicate());
  EXPECT_EQ(StoredPings(*env), 1);
  EXPECT_EQ(env->Metric("pinning_ingest_duplicates_total"), 1);
}

TEST(ServerTest, AcknowledgedReportIsVisibleThroughRatesWithinTwoSeconds) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  absl::StatusOr<PingMaker> maker = PingMaker::Create(CurrentParams(*env), 4, 11);
  ASSERT_TRUE(maker.ok());
  auto ingest = v1::Ingest::NewStub(env->Channel());
  auto query = v1::Query::NewStub(env->Channel());
  const std::string today = Today();

  for (int round = 1; round <= 3; ++round) {
    absl::StatusOr<v1::Ping> ping = maker->Make(
        {PinsetState::kViolated, PinsetState::kCheckedOk, PinsetState::kCheckedOk,
         PinsetState::kNotChecked},
        today);
    ASSERT_TRUE(ping.ok());
    auto context = env->Context();
    v1::SubmitResponse response;
    ASSERT_TRUE(ingest->Submit(context.get(), SubmitFor(*ping), &response).ok());
    const absl::Time acknowledged = absl::Now();

    // Poll Query.Rates until the pinset series shows `round` pings.
    bool visible = false;
    absl::Duration elapsed;
    while (!visible) {
      v1::RatesRequest request;
      request.set_from_day(today);
      request.set_to_day(today);
      request.set_group_by(v1::GROUP_BY_PINSET);
      request.add_keys("google");
      v1::RatesResponse rates;
      context = env->Context(TestEnv::kReaderToken);
      grpc::Status status = query->Rates(context.get(), request, &rates);
      ASSERT_TRUE(status.ok()) << status.error_message();
      for (const v1::RateSeries& series : rates.series()) {
        for (const v1::RatePoint& point : series.points()) {
          if (series.key() == "google" && point.pings() == static_cast<uint64_t>(round)) {
            visible = true;
          }
        }
      }
      elapsed = absl::Now() - acknowledged;
      if (elapsed > absl::Seconds(2)) break;
      if (!visible) absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_TRUE(visible) << "not visible " << elapsed << " after acknowledgement";
    EXPECT_LE(elapsed, absl::Seconds(2));
  }
}

TEST(ServerTest, SubmitBatchCountsAcceptedDuplicatesAndRejections) {
  std::unique_ptr<TestEnv> env = MakeEnv([](aggregator::ServerOptions& options) {
    options.stream_max_in_flight = 8;  // exercise flow control: the stream pauses and resumes
  });
  ASSERT_NE(env, nullptr);
  absl::StatusOr<PingMaker> maker = PingMaker::Create(CurrentParams(*env), 4, 13);
  ASSERT_TRUE(maker.ok());
  const std::vector<PinsetState> states(4, PinsetState::kCheckedOk);
  std::vector<v1::Ping> pings;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<v1::Ping> ping = maker->Make(states, Today());
    ASSERT_TRUE(ping.ok());
    pings.push_back(*ping);
  }
  auto ingest = v1::Ingest::NewStub(env->Channel());

  // Stream: 300 good pings, 5 of them twice, and 3 bad ones at known positions.
  std::vector<v1::Ping> stream = pings;
  for (int i = 0; i < 5; ++i) stream.push_back(pings[i]);
  v1::Ping bad_id = pings[0];
  bad_id.set_ping_id("short");
  v1::Ping bad_version = pings[1];
  bad_version.set_params_version(99);
  bad_version.set_ping_id(RandomPingId(maker->rng()));
  v1::Ping bad_bits = pings[2];
  bad_bits.set_bits("xy");  // 8 bits need 1 byte
  bad_bits.set_ping_id(RandomPingId(maker->rng()));
  stream.insert(stream.begin() + 10, bad_id);
  stream.insert(stream.begin() + 100, bad_version);
  stream.push_back(bad_bits);

  auto context = env->Context();
  v1::SubmitBatchResponse response;
  auto writer = ingest->SubmitBatch(context.get(), &response);
  for (const v1::Ping& ping : stream) ASSERT_TRUE(writer->Write(SubmitFor(ping)));
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 300u);
  EXPECT_EQ(response.duplicates(), 5u);
  EXPECT_EQ(response.rejected(), 3u);
  ASSERT_EQ(response.rejections_size(), 3);
  EXPECT_EQ(response.rejections(0).index(), 10u);
  EXPECT_EQ(response.rejections(0).code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(response.rejections(0).reason(), "bad_ping_id");
  EXPECT_EQ(response.rejections(1).index(), 100u);
  EXPECT_EQ(response.rejections(1).code(),
            static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(response.rejections(1).reason(), "unknown_params_version");
  EXPECT_EQ(response.rejections(2).index(), stream.size() - 1);
  EXPECT_EQ(response.rejections(2).reason(), "bad_bits_length");
  EXPECT_EQ(StoredPings(*env), 300);
}

TEST(ServerTest, OverloadIsResourceExhaustedWithRetryAfter) {
  // A queue of 2 and commits that wait 300 ms for their batch to fill: concurrent submits beyond
  // the queue are shed.
  std::unique_ptr<TestEnv> env = MakeEnv([](aggregator::ServerOptions& options) {
    options.queue_capacity = 2;
    options.commit_max_batch = 1000;
    options.commit_max_wait = absl::Milliseconds(300);
    options.retry_after_ms = 250;
  });
  ASSERT_NE(env, nullptr);
  absl::StatusOr<PingMaker> maker = PingMaker::Create(CurrentParams(*env), 4, 17);
  ASSERT_TRUE(maker.ok());
  auto ingest = v1::Ingest::NewStub(env->Channel());
  const std::vector<PinsetState> states(4, PinsetState::kNotChecked);

  constexpr int kCalls = 40;
  std::vector<v1::Ping> pings;
  for (int i = 0; i < kCalls; ++i) pings.push_back(*maker->Make(states, Today()));
  absl::Mutex mu;
  int ok = 0, exhausted = 0, other = 0;
  std::vector<std::string> hints;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto context = env->Context();
      v1::SubmitResponse response;
      grpc::Status status = ingest->Submit(context.get(), SubmitFor(pings[i]), &response);
      absl::MutexLock lock(&mu);
      if (status.ok()) {
        ++ok;
      } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++exhausted;
        auto it = context->GetServerTrailingMetadata().find("retry-after-ms");
        hints.push_back(it == context->GetServerTrailingMetadata().end()
                            ? std::string("(none)")
                            : std::string(it->second.data(), it->second.size()));
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(other, 0);
  EXPECT_GT(exhausted, 0);
  EXPECT_GT(ok, 0);
  for (const std::string& hint : hints) EXPECT_EQ(hint, "250");
  EXPECT_EQ(env->Metric("pinning_ingest_rejected_total{reason=\"overloaded\"}"), exhausted);
  EXPECT_EQ(StoredPings(*env), ok);
}

TEST(ServerTest, EventsAndCatalogThroughQuery) {
  std::unique_ptr<TestEnv> env = MakeEnv();
  ASSERT_NE(env, nullptr);
  auto admin = v1::Admin::NewStub(env->Channel());
  auto query = v1::Query::NewStub(env->Channel());
  v1::RolloutEvent event;
  event.set_day("2024-03-01");
  event.set_kind(v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  event.set_organization("Tor");
  event.set_pinset("tor");
  event.set_description("tor to enforce");
  v1::RolloutEvent stored;
  auto context = env->Context(TestEnv::kAdminToken);
  ASSERT_TRUE(admin->RecordEvent(context.get(), event, &stored).ok());
  EXPECT_EQ(stored.recorded_by(), TestEnv::kAdminName);

  v1::EventsRequest request;
  request.set_organization("Tor");
  v1::EventsResponse events;
  context = env->Context(TestEnv::kReaderToken);
  ASSERT_TRUE(query->Events(context.get(), request, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).description(), "tor to enforce");
  request.set_organization("Google");
  context = env->Context(TestEnv::kReaderToken);
  ASSERT_TRUE(query->Events(context.get(), request, &events).ok());
  EXPECT_EQ(events.events_size(), 0);

  v1::Catalog catalog;
  context = env->Context(TestEnv::kReaderToken);
  ASSERT_TRUE(query->Catalog(context.get(), v1::CatalogRequest(), &catalog).ok());
  EXPECT_EQ(catalog.version(), env->catalog_version());
  EXPECT_EQ(catalog.pinsets(2).name(), "tor");
  v1::CatalogRequest unknown;
  unknown.set_version("feed");
  context = env->Context(TestEnv::kReaderToken);
  EXPECT_EQ(query->Catalog(context.get(), unknown, &catalog).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A new catalog through Admin; a wrong version field is refused.
  v1::PublishCatalogRequest publish;
  *publish.mutable_catalog() = env->catalog();
  publish.mutable_catalog()->mutable_pinsets(2)->set_mode(v1::PIN_MODE_ENFORCE);
  v1::PublishCatalogResponse published;
  context = env->Context(TestEnv::kAdminToken);
  EXPECT_EQ(admin->PublishCatalog(context.get(), publish, &published).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // version field is the old hash
  publish.mutable_catalog()->clear_version();
  context = env->Context(TestEnv::kAdminToken);
  ASSERT_TRUE(admin->PublishCatalog(context.get(), publish, &published).ok());
  EXPECT_NE(published.version(), env->catalog_version());
  EXPECT_EQ(published.version().size(), 64u);
}

}  // namespace
}  // namespace pinning::tests
