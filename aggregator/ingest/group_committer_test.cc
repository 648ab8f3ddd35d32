#include "aggregator/ingest/group_committer.h"


#include <atomic>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "aggregator/ingest/rejection.h"
#include "aggregator/storage/sqlite_store.h"
#include "aggregator/storage/testing/temp_sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

// Forwards to a real store; counts CommitBatch calls, can block them or make them fail.
class TestStore final : public CountStore {
 public:
  explicit TestStore(CountStore* inner) : inner_(inner) {}

  absl::Status CommitBatch(absl::Span<const PingRecord> pings,
                           absl::Span<CommitOutcome> outcomes) override {
    if (block_ != nullptr) block_->WaitForNotification();
    calls_.fetch_add(1);
    int64_t seen = max_batch_.load();
    while (static_cast<int64_t>(pings.size()) > seen &&
           !max_batch_.compare_exchange_weak(seen, pings.size())) {
    }
    if (fail_.load()) return absl::UnavailableError("disk I/O error (injected)");
    return inner_->CommitBatch(pings, outcomes);
  }
  absl::Status ForEachCount(const CountQuery& q,
                            absl::FunctionRef<void(const CountRow&)> fn) override {
    return inner_->ForEachCount(q, fn);
  }
  absl::Status AddCounts(absl::Span<const CountRow> rows) override {
    return inner_->AddCounts(rows);
  }
  absl::StatusOr<int64_t> PruneSeenPings(DayNumber day) override {
    prune_calls_.fetch_add(1);
    return inner_->PruneSeenPings(day);
  }
  absl::StatusOr<int64_t> SeenPingCount() override { return inner_->SeenPingCount(); }
  absl::Status PutParamsVersion(const v1::ParamsVersion& p) override {
    return inner_->PutParamsVersion(p);
  }
  absl::StatusOr<std::vector<v1::ParamsVersion>> ListParamsVersions() override {
    return inner_->ListParamsVersions();
  }
  absl::Status PutCatalog(const v1::Catalog& c) override { return inner_->PutCatalog(c); }
  absl::StatusOr<v1::Catalog> GetCatalog(absl::string_view v) override {
    return inner_->GetCatalog(v);
  }
  absl::StatusOr<std::vector<std::string>> ListCatalogVersions() override {
    return inner_->ListCatalogVersions();
  }
  absl::StatusOr<v1::RolloutEvent> AddEvent(const v1::RolloutEvent& e) override {
    return inner_->AddEvent(e);
  }
  absl::StatusOr<std::vector<v1::RolloutEvent>> ListEvents(const EventFilter& f) override {
    return inner_->ListEvents(f);
  }
  absl::StatusOr<v1::AuditRecord> AddAudit(const v1::AuditRecord& r) override {
    return inner_->AddAudit(r);
  }
  absl::StatusOr<std::vector<v1::AuditRecord>> ListAudit(uint32_t limit) override {
    return inner_->ListAudit(limit);
  }

  CountStore* inner_;
  absl::Notification* block_ = nullptr;
  std::atomic<bool> fail_{false};
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> max_batch_{0};
  std::atomic<int64_t> prune_calls_{0};
};

const ValidPingInfo kInfo{/*day=*/19800, /*num_pinsets=*/4, /*bits_per_pinset=*/2};

v1::Ping MakePing(int n, uint8_t bits = 0x01) {
  v1::Ping p;
  std::string id(kPingIdBytes, 'z');
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  p.set_ping_id(id);
  p.set_day("2024-03-18");
  p.set_params_version(1);
  p.set_catalog_version("cat");
  p.set_bits(std::string(1, static_cast<char>(bits)));
  p.mutable_dimensions()->set_product("chrome");
  return p;
}

// Collects callback results.
struct Results {
  absl::Mutex mu;
  std::vector<absl::StatusOr<CommitOutcome>> got ABSL_GUARDED_BY(mu);
  CommitCallback Callback() {
    return [this](absl::StatusOr<CommitOutcome> r) {
      absl::MutexLock lock(&mu);
      got.push_back(std::move(r));
    };
  }
  // Waits until `n` results arrived (or 20 s passed) and returns them.
  std::vector<absl::StatusOr<CommitOutcome>> Wait(size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return got.size() >= n; };
    mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    return got;
  }
  size_t Size() {
    absl::MutexLock lock(&mu);
    return got.size();
  }
};

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = testing::OpenTempSqliteStore();
    ASSERT_TRUE(store.ok()) << store.status();
    sqlite_ = std::move(*store);
    store_ = std::make_unique<TestStore>(sqlite_.get());
    options_.prune_interval = absl::ZeroDuration();
  }

  std::unique_ptr<GroupCommitter> Start() {
    auto committer = GroupCommitter::Start(store_.get(), &metrics_, options_);
    EXPECT_TRUE(committer.ok()) << committer.status();
    return committer.ok() ? std::move(*committer) : nullptr;
  }

  // Pings counted in the group of `kInfo`.
  int64_t StoredPings() {
    int64_t pings = 0;
    CountQuery q;
    q.from_day = kInfo.day;
    q.to_day = kInfo.day;
    q.include_group_totals = true;
    EXPECT_TRUE(sqlite_
                    ->ForEachCount(q,
                                   [&](const CountRow& r) {
                                     if (r.pinset == kGroupTotalPinset) pings += r.reports;
                                   })
                    .ok());
    return pings;
  }

  int64_t CounterValue(const char* name) { return metrics_.AddCounter(name, "")->Value(); }
  int64_t Rejected(const char* reason) {
    return metrics_.AddLabeledCounter("pinning_ingest_rejected_total", "", "reason")->Value(reason);
  }

  std::unique_ptr<SqliteStore> sqlite_;
  std::unique_ptr<TestStore> store_;
  MetricsRegistry metrics_;
  GroupCommitterOptions options_;
};

TEST_F(GroupCommitterTest, AcknowledgesCountedThenDuplicate) {
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results results;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, results.Callback()).ok());
  }
  auto got = results.Wait(10);
  ASSERT_EQ(got.size(), 10u);
  for (const auto& r : got) EXPECT_EQ(*r, CommitOutcome::kCounted);
  // Every acknowledged ping is durable: it is in the store when the callback has run.
  EXPECT_EQ(StoredPings(), 10);
  Results retry;
  for (int i = 5; i < 15; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, retry.Callback()).ok());
  }
  got = retry.Wait(10);
  ASSERT_EQ(got.size(), 10u);
  int duplicates = 0;
  for (const auto& r : got) duplicates += *r == CommitOutcome::kDuplicate;
  EXPECT_EQ(duplicates, 5);
  EXPECT_EQ(StoredPings(), 15);
  EXPECT_EQ(CounterValue("pinning_ingest_accepted_total"), 15);
  EXPECT_EQ(CounterValue("pinning_ingest_duplicates_total"), 5);
}

TEST_F(GroupCommitterTest, ConcurrentSubmittersShareTransactions) {
  options_.max_batch_pings = 512;
  options_.max_wait = absl::Milliseconds(5);
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  Results results;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(
            committer->Submit(MakePing(t * kPerThread + i), kInfo, results.Callback()).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = results.Wait(kThreads * kPerThread);
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& r : got) ASSERT_EQ(*r, CommitOutcome::kCounted);
  EXPECT_EQ(StoredPings(), kThreads * kPerThread);
  // 8000 pings in at most 512 per transaction: at least 16 transactions, and far fewer than one
  // per ping.
  EXPECT_GE(store_->calls_.load(), 16);
  EXPECT_LE(store_->calls_.load(), kThreads * kPerThread / 10);
  EXPECT_LE(store_->max_batch_.load(), 512);
  EXPECT_EQ(CounterValue("pinning_ingest_commits_total"), store_->calls_.load());
  const std::string text = metrics_.ExportPrometheus();
  EXPECT_THAT(text, ::testing::HasSubstr(absl::StrCat("pinning_ingest_commit_batch_size_count ",
                                                      store_->calls_.load())));
  EXPECT_THAT(text, ::testing::HasSubstr("pinning_ingest_commit_batch_size_sum 8000"));
}

TEST_F(GroupCommitterTest, LonePingIsCommittedAfterMaxWait) {
  options_.max_batch_pings = 10000;
  options_.max_wait = absl::Milliseconds(20);
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results results;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(committer->Submit(MakePing(1), kInfo, results.Callback()).ok());
  ASSERT_EQ(results.Wait(1).size(), 1u);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(19));  // it did wait for company
  EXPECT_LT(waited, absl::Seconds(2));        // but not for a full batch
}

TEST_F(GroupCommitterTest, FullQueueShedsLoadWithRetryHint) {
  options_.max_batch_pings = 1;
  options_.queue_capacity = 10;
  options_.retry_after_ms = 321;
  options_.max_wait = absl::ZeroDuration();
  absl::Notification unblock;
  store_->block_ = &unblock;
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results results;
  // The committer takes the first ping and blocks in CommitBatch; then ten fill the queue.
  ASSERT_TRUE(committer->Submit(MakePing(0), kInfo, results.Callback()).ok());
  for (int i = 0; i < 200 && committer->QueueDepth() > 0; ++i)
    absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(committer->QueueDepth(), 0);
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, results.Callback()).ok()) << i;
  }
  bool called = false;
  absl::Status shed = committer->Submit(
      MakePing(11), kInfo, [&called](absl::StatusOr<CommitOutcome>) { called = true; });
  EXPECT_EQ(shed.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RejectionReason(shed), "overloaded");
  EXPECT_EQ(RetryAfterMs(shed), 321);
  EXPECT_EQ(Rejected("overloaded"), 1);
  EXPECT_EQ(metrics_.AddGauge("pinning_ingest_queue_depth", "")->Value(), 10);
  unblock.Notify();
  auto got = results.Wait(11);
  ASSERT_EQ(got.size(), 11u);
  for (const auto& r : got) EXPECT_EQ(*r, CommitOutcome::kCounted);
  EXPECT_FALSE(called);
  EXPECT_EQ(StoredPings(), 11);
  committer->Shutdown();
  EXPECT_EQ(metrics_.AddGauge("pinning_ingest_queue_depth", "")->Value(), 0);
}

TEST_F(GroupCommitterTest, StorageFailureAcknowledgesNothing) {
  store_->fail_ = true;
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results failed;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, failed.Callback()).ok());
  }
  auto got = failed.Wait(20);
  ASSERT_EQ(got.size(), 20u);
  for (const auto& r : got) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(RejectionReason(r.status()), "storage_unavailable");
  }
  EXPECT_EQ(StoredPings(), 0);
  EXPECT_EQ(*sqlite_->SeenPingCount(), 0);
  EXPECT_EQ(CounterValue("pinning_ingest_accepted_total"), 0);
  EXPECT_EQ(Rejected("storage_unavailable"), 20);
  EXPECT_GE(CounterValue("pinning_ingest_commit_failures_total"), 1);
  // Once storage recovers, the retries are counted: nothing had been recorded as seen.
  store_->fail_ = false;
  Results retried;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, retried.Callback()).ok());
  }
  got = retried.Wait(20);
  ASSERT_EQ(got.size(), 20u);
  for (const auto& r : got) EXPECT_EQ(*r, CommitOutcome::kCounted);
  EXPECT_EQ(StoredPings(), 20);
}

TEST_F(GroupCommitterTest, ShutdownDrainsQueueAndRefusesNewPings) {
  options_.max_batch_pings = 7;
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results results;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, results.Callback()).ok());
  }
  committer->Shutdown();
  EXPECT_EQ(results.Size(),
            300u);  // every accepted Submit got its callback before Shutdown returned
  EXPECT_EQ(StoredPings(), 300);
  absl::Status late = committer->Submit(MakePing(1000), kInfo, results.Callback());
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RejectionReason(late), "shutting_down");
  committer->Shutdown();  // idempotent
}

// Holds the tasks the committer hands to its callback executor, to run them when the test says.
struct HeldTasks {
  absl::Mutex mu;
  std::vector<absl::AnyInvocable<void() &&>> tasks ABSL_GUARDED_BY(mu);
  std::function<void(absl::AnyInvocable<void() &&>)> Executor() {
    return [this](absl::AnyInvocable<void() &&> task) {
      absl::MutexLock lock(&mu);
      tasks.push_back(std::move(task));
    };
  }
  // Waits until `n` tasks were handed over (or 20 s passed) and takes them.
  std::vector<absl::AnyInvocable<void() &&>> Take(size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return tasks.size() >= n; };
    mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    return std::move(tasks);
  }
};

TEST_F(GroupCommitterTest, CallbacksRunOnTheExecutorSplitIntoTasks) {
  HeldTasks held;
  options_.max_batch_pings = 10;
  options_.max_wait = absl::Seconds(5);  // the batch is committed when full
  options_.callback_executor = held.Executor();
  options_.callback_tasks = 3;
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  // Pings 0..4 (and 100..104, to fill the batch) are counted first, so the batch of 0..9 below
  // mixes duplicates and new pings.
  Results first;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, first.Callback()).ok());
    ASSERT_TRUE(committer->Submit(MakePing(100 + i), kInfo, first.Callback()).ok());
  }
  for (auto& task : held.Take(3)) std::move(task)();
  ASSERT_EQ(first.Wait(10).size(), 10u);

  absl::Mutex mu;
  std::map<int, absl::StatusOr<CommitOutcome>> by_ping;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(committer
                    ->Submit(MakePing(i), kInfo,
                             [&, i](absl::StatusOr<CommitOutcome> outcome) {
                               absl::MutexLock lock(&mu);
                               EXPECT_TRUE(by_ping.emplace(i, std::move(outcome)).second)
                                   << "callback of ping " << i << " ran twice";
                             })
                    .ok());
  }
  std::vector<absl::AnyInvocable<void() &&>> tasks = held.Take(3);
  ASSERT_EQ(tasks.size(), 3u);  // one batch of 10 callbacks, in 3 tasks
  // The batch is durable before any of its callbacks runs.
  EXPECT_EQ(StoredPings(), 15);
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(by_ping.empty());
  }
  // Tasks may run in any order and on any thread.
  std::thread other([&] { std::move(tasks[2])(); });
  other.join();
  std::move(tasks[0])();
  std::move(tasks[1])();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(by_ping.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(by_ping[i].ok()) << by_ping[i].status();
    EXPECT_EQ(*by_ping[i], i < 5 ? CommitOutcome::kDuplicate : CommitOutcome::kCounted)
        << "ping " << i;
  }
}

TEST_F(GroupCommitterTest, StorageFailureReachesEveryCallbackThroughTheExecutor) {
  HeldTasks held;
  store_->fail_ = true;
  options_.max_batch_pings = 5;
  options_.max_wait = absl::Seconds(5);
  options_.callback_executor = held.Executor();
  options_.callback_tasks = 8;  // more tasks than callbacks: one task per callback
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results results;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(committer->Submit(MakePing(i), kInfo, results.Callback()).ok());
  }
  std::vector<absl::AnyInvocable<void() &&>> tasks = held.Take(5);
  EXPECT_EQ(tasks.size(), 5u);
  for (auto& task : tasks) std::move(task)();
  auto got = results.Wait(5);
  ASSERT_EQ(got.size(), 5u);
  for (const auto& r : got) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(RejectionReason(r.status()), "storage_unavailable");
  }
  EXPECT_EQ(StoredPings(), 0);
}

TEST_F(GroupCommitterTest, RejectsRecordsBreakingTheStoreContract) {
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  v1::Ping bad = MakePing(1);
  bad.set_bits("too long");
  Results results;
  absl::Status s = committer->Submit(bad, kInfo, results.Callback());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RejectionReason(s), "invalid_record");
}

TEST_F(GroupCommitterTest, PrunesExpiredIds) {
  // Today is day 19810; retention 8 days keeps ids of days >= 19802.
  options_.now = [] { return absl::FromUnixSeconds(19810LL * 86400 + 600); };
  options_.window = {1, 7, 8};
  options_.prune_interval = absl::Milliseconds(1);
  auto committer = Start();
  ASSERT_NE(committer, nullptr);
  Results results;
  for (int i = 0; i < 6; ++i) {
    ValidPingInfo info = kInfo;
    info.day = 19799 + i;  // days 19799..19804: the first three expire
    ASSERT_TRUE(committer->Submit(MakePing(i), info, results.Callback()).ok());
  }
  ASSERT_EQ(results.Wait(6).size(), 6u);
  // Pruning runs after each batch; give the committer a moment after the last callback.
  for (int i = 0; i < 400 && CounterValue("pinning_ingest_pruned_ids_total") < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(CounterValue("pinning_ingest_pruned_ids_total"), 3);
  EXPECT_EQ(*sqlite_->SeenPingCount(), 3);
  EXPECT_GE(store_->prune_calls_.load(), 1);
}

TEST_F(GroupCommitterTest, RejectsBadOptions) {
  GroupCommitterOptions bad;
  bad.max_batch_pings = 0;
  EXPECT_EQ(GroupCommitter::Start(store_.get(), &metrics_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = GroupCommitterOptions();
  bad.queue_capacity = 0;
  EXPECT_EQ(GroupCommitter::Start(store_.get(), &metrics_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = GroupCommitterOptions();
  bad.callback_tasks = 0;
  EXPECT_EQ(GroupCommitter::Start(store_.get(), &metrics_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = GroupCommitterOptions();
  bad.window = {1, 7, 3};
  EXPECT_EQ(GroupCommitter::Start(store_.get(), &metrics_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator
