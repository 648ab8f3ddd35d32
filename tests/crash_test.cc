// Crash and shutdown tests of the aggregatord BINARY over TLS gRPC.
//
// Crash: concurrent submitters send distinct pings and remember which ones were acknowledged; the
// server is SIGKILLed mid-load and restarted on the same data directory; the submitters retry every
// unacknowledged ping until it is acknowledged. Then:
//   1. every ping, sent again in one SubmitBatch, comes back as a duplicate: every acknowledged
//      ping (in particular those acknowledged before the kill) is durably recorded;
//   2. the stored number of pings equals the number of distinct pings, and every stored bit count
//      equals the sum of that bit over the distinct pings: nothing counted twice, nothing lost.
// Graceful shutdown: SIGTERM mid-load exits 0, and every ping acknowledged before the exit is
// recorded.
#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "aggregator/storage/sqlite_store.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "privacy/pinset_state.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"
#include "tests/subprocess.h"
#include "tests/test_certs.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

using ::privacy::PinsetState;

constexpr int kSubmitters = 12;
constexpr int kPingsPerSubmitter = 400;
constexpr int kPings = kSubmitters * kPingsPerSubmitter;

// Aggregatord runs the binary with the test configuration; each Start() uses a new port.
class Aggregatord {
 public:
  static absl::StatusOr<std::unique_ptr<Aggregatord>> Create() {
    auto a = std::unique_ptr<Aggregatord>(new Aggregatord());
    absl::StatusOr<std::string> dir = MakeTempDir("aggregatord");
    if (!dir.ok()) return dir.status();
    a->dir_ = *dir;
    absl::StatusOr<TestCertificates> certs = MakeTestCertificates(a->dir_ + "/certs");
    if (!certs.ok()) return certs.status();
    a->certs_ = *certs;
    absl::StatusOr<ConfigFiles> files = WriteConfigFiles(a->dir_);
    if (!files.ok()) return files.status();
    a->files_ = *files;
    return a;
  }

  // Start launches the binary and waits (up to 30 s) for its port file.
  absl::Status Start() {
    ++starts_;
    const std::string port_file = absl::StrCat(dir_, "/port", starts_);
    process_.reset();
    absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(
        {RunfilePath("aggregator/serve/aggregatord"), "--listen=127.0.0.1:0",
         "--port_file=" + port_file, "--tls_cert=" + certs_.server_cert_file,
         "--tls_key=" + certs_.server_key_file, "--data_dir=" + data_dir(),
         "--token_file=" + files_.token_file, "--initial_catalog=" + files_.catalog_file,
         "--initial_params=" + files_.params_file, "--max_epsilon_one=6",
         "--max_epsilon_inf=10", "--sqlite_cache_kib=8192"},
        absl::StrCat(dir_, "/stdout", starts_), absl::StrCat(dir_, "/stderr", starts_));
    if (!process.ok()) return process.status();
    process_ = *std::move(process);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      int port = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFileOrEmpty(port_file)), &port) &&
          port > 0) {
        address_ = absl::StrCat("127.0.0.1:", port);
        return absl::OkStatus();
      }
      if (process_->WaitFor(absl::ZeroDuration()).has_value()) {
        return absl::InternalError(absl::StrCat(
            "aggregatord exited: ", ReadFileOrEmpty(absl::StrCat(dir_, "/stderr", starts_))));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::DeadlineExceededError("aggregatord did not write its port file");
  }

  std::shared_ptr<grpc::Channel> Channel() const { return TlsChannel(address_, certs_.ca_pem); }
  Subprocess& process() { return *process_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string stdout_text() const {
    return ReadFileOrEmpty(absl::StrCat(dir_, "/stdout", starts_));
  }
  const std::string& address() const { return address_; }

 private:
  Aggregatord() = default;
  std::string dir_;
  TestCertificates certs_;
  ConfigFiles files_;
  std::unique_ptr<Subprocess> process_;
  std::string address_;
  int starts_ = 0;
};

// Submitters send pings[i] for i in their share until each is acknowledged, following the channel
// the test points them at.
class Submitters {
 public:
  Submitters(const std::vector<v1::Ping>* pings, std::shared_ptr<grpc::Channel> channel)
      : pings_(pings), acked_(pings->size()), channel_(std::move(channel)) {
    for (auto& a : acked_) a.store(false);
  }

  void Start() {
    for (int t = 0; t < kSubmitters; ++t) threads_.emplace_back([this, t] { Run(t); });
  }
  void Join() {
    for (std::thread& t : threads_) t.join();
  }
  void SetChannel(std::shared_ptr<grpc::Channel> channel) {
    absl::MutexLock lock(&mu_);
    channel_ = std::move(channel);
  }
  int Acknowledged() const { return acked_count_.load(); }
  int Failures() const { return failures_.load(); }
  std::vector<bool> AckedSnapshot() const {
    std::vector<bool> snapshot(acked_.size());
    for (size_t i = 0; i < acked_.size(); ++i) snapshot[i] = acked_[i].load();
    return snapshot;
  }

 private:
  void Run(int t) {
    for (int i = t; i < static_cast<int>(pings_->size()); i += kSubmitters) {
      while (true) {
        std::shared_ptr<grpc::Channel> channel;
        {
          absl::MutexLock lock(&mu_);
          channel = channel_;
        }
        auto context = ContextWithDeadline(absl::Seconds(3));
        v1::SubmitResponse response;
        grpc::Status status =
            v1::Ingest::NewStub(channel)->Submit(context.get(), SubmitFor((*pings_)[i]), &response);
        if (status.ok()) {
          acked_[i].store(true);
          acked_count_.fetch_add(1);
          break;
        }
        failures_.fetch_add(1);
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  }

  const std::vector<v1::Ping>* pings_;
  std::vector<std::atomic<bool>> acked_;
  std::atomic<int> acked_count_{0};
  std::atomic<int> failures_{0};
  absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// ResubmitAll streams every ping again and returns the batch response.
absl::StatusOr<v1::SubmitBatchResponse> ResubmitAll(const std::shared_ptr<grpc::Channel>& channel,
                                                    const std::vector<v1::Ping>& pings) {
  auto context = ContextWithDeadline(absl::Seconds(30));
  v1::SubmitBatchResponse response;
  auto writer = v1::Ingest::NewStub(channel)->SubmitBatch(context.get(), &response);
  for (const v1::Ping& ping : pings) {
    if (!writer->Write(SubmitFor(ping))) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  return response;
}

// Expected[pinset][bit] = how many of `pings` have that reported bit set (all pinsets reported).
std::array<std::array<int64_t, 2>, TestEnv::kNumPinsets> ExpectedOnes(
    const std::vector<v1::Ping>& pings) {
  std::array<std::array<int64_t, 2>, TestEnv::kNumPinsets> ones{};
  for (const v1::Ping& ping : pings) {
    for (int k = 0; k < TestEnv::kNumPinsets; ++k) {
      for (int b = 0; b < 2; ++b) {
        const int j = k * 2 + b;
        ones[k][b] += (static_cast<uint8_t>(ping.bits()[j / 8]) >> (j % 8)) & 1;
      }
    }
  }
  return ones;
}

// CheckStoredCounts compares the store of `data_dir` with the distinct `pings`.
void CheckStoredCounts(const std::string& data_dir, const std::vector<v1::Ping>& pings) {
  aggregator::SqliteStoreOptions options;
  options.path = data_dir + "/aggregator.db";
  auto store = aggregator::SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  aggregator::CountQuery query;
  query.from_day = 0;
  query.to_day = 3000000;
  query.include_group_totals = true;
  int64_t group_pings = 0;
  std::array<int64_t, TestEnv::kNumPinsets> reports{};
  std::array<std::array<int64_t, 2>, TestEnv::kNumPinsets> ones{};
  ASSERT_TRUE((*store)
                  ->ForEachCount(query,
                                 [&](const aggregator::CountRow& row) {
                                   if (row.pinset == aggregator::kGroupTotalPinset) {
                                     group_pings += row.reports;
                                     return;
                                   }
                                   ASSERT_LT(row.pinset, TestEnv::kNumPinsets);
                                   reports[row.pinset] += row.reports;
                                   ones[row.pinset][0] += row.ones[0];
                                   ones[row.pinset][1] += row.ones[1];
                                 })
                  .ok());
  EXPECT_EQ(group_pings, static_cast<int64_t>(pings.size()));
  const auto expected = ExpectedOnes(pings);
  for (int k = 0; k < TestEnv::kNumPinsets; ++k) {
    EXPECT_EQ(reports[k], static_cast<int64_t>(pings.size())) << "pinset " << k;
    EXPECT_EQ(ones[k][0], expected[k][0]) << "pinset " << k;
    EXPECT_EQ(ones[k][1], expected[k][1]) << "pinset " << k;
  }
  absl::StatusOr<int64_t> seen = (*store)->SeenPingCount();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, static_cast<int64_t>(pings.size()));
}

TEST(CrashTest, AcknowledgedPingsSurviveSigkillAndAreCountedExactlyOnce) {
  absl::StatusOr<std::unique_ptr<Aggregatord>> server = Aggregatord::Create();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  EXPECT_NE((*server)->stdout_text().find("listening on " + (*server)->address()),
            std::string::npos)
      << (*server)->stdout_text();

  absl::StatusOr<std::vector<v1::Ping>> pings = MakePings((*server)->Channel(), kPings, 42, 1);
  ASSERT_TRUE(pings.ok()) << pings.status();

  Submitters submitters(&*pings, (*server)->Channel());
  submitters.Start();
  // Kill mid-load: once a third of the pings are acknowledged.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (submitters.Acknowledged() < kPings / 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  (*server)->process().Signal(SIGKILL);
  const int killed_status = (*server)->process().Wait();
  const std::vector<bool> acked_before_kill = submitters.AckedSnapshot();
  int acked_at_kill = 0;
  for (bool a : acked_before_kill) acked_at_kill += a;
  EXPECT_TRUE(WIFSIGNALED(killed_status) && WTERMSIG(killed_status) == SIGKILL);
  ASSERT_GT(acked_at_kill, 0);
  ASSERT_LT(acked_at_kill, kPings) << "the kill came after the load ended";

  absl::SleepFor(absl::Milliseconds(200));  // submitters see the outage and retry
  ASSERT_TRUE((*server)->Start().ok());
  submitters.SetChannel((*server)->Channel());
  submitters.Join();
  EXPECT_EQ(submitters.Acknowledged(), kPings);
  EXPECT_GT(submitters.Failures(), 0);  // some calls were cut by the kill

  // 1. Every ping is already recorded, including every one acknowledged before the kill.
  absl::StatusOr<v1::SubmitBatchResponse> again = ResubmitAll((*server)->Channel(), *pings);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicates(), static_cast<uint64_t>(kPings));
  EXPECT_EQ(again->accepted(), 0u);
  EXPECT_EQ(again->rejected(), 0u);

  // 2. Stored counts are exactly those of the distinct pings (checked after a clean stop).
  (*server)->process().Signal(SIGTERM);
  const int status = (*server)->process().Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CheckStoredCounts((*server)->data_dir(), *pings);
  std::cerr << "acknowledged before SIGKILL: " << acked_at_kill << " of " << kPings
            << "; failed calls retried: " << submitters.Failures() << "\n";
}

TEST(CrashTest, SigtermDrainsInFlightPingsAndExitsZero) {
  absl::StatusOr<std::unique_ptr<Aggregatord>> server = Aggregatord::Create();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  absl::StatusOr<std::vector<v1::Ping>> pings = MakePings((*server)->Channel(), kPings, 43, 1);
  ASSERT_TRUE(pings.ok()) << pings.status();

  Submitters submitters(&*pings, (*server)->Channel());
  submitters.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (submitters.Acknowledged() < kPings / 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  (*server)->process().Signal(SIGTERM);
  std::optional<int> status = (*server)->process().WaitFor(absl::Seconds(20));
  ASSERT_TRUE(status.has_value()) << "aggregatord did not stop within 20 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  const std::vector<bool> acked_before_exit = submitters.AckedSnapshot();

  ASSERT_TRUE((*server)->Start().ok());
  submitters.SetChannel((*server)->Channel());
  submitters.Join();

  std::vector<v1::Ping> acked;
  for (int i = 0; i < kPings; ++i) {
    if (acked_before_exit[i]) acked.push_back((*pings)[i]);
  }
  ASSERT_FALSE(acked.empty());
  absl::StatusOr<v1::SubmitBatchResponse> again = ResubmitAll((*server)->Channel(), acked);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicates(), acked.size());
  (*server)->process().Signal(SIGTERM);
  (*server)->process().Wait();
  CheckStoredCounts((*server)->data_dir(), *pings);
}

TEST(CrashTest, BadFlagsExitNonZeroWithAMessage) {
  absl::StatusOr<std::string> dir = MakeTempDir("badflags");
  ASSERT_TRUE(dir.ok());
  // Neither TLS files nor --insecure.
  CommandResult result = RunCommand(
      {RunfilePath("aggregator/serve/aggregatord"), "--data_dir=" + *dir + "/data"}, *dir);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("tls_cert_file and tls_key_file are required"), std::string::npos)
      << result.err;
  // retention not above the accepted age.
  result = RunCommand({RunfilePath("aggregator/serve/aggregatord"), "--insecure",
                       "--data_dir=" + *dir + "/data", "--max_age_days=9", "--retention_days=9"},
                      *dir);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("retention"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace pinning::tests
