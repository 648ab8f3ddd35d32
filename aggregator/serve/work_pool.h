// work_pool.h: a few threads for RPC work that may block (store reads, decoding, publishing), so
// that gRPC callback reactions never block.
//
//   WorkPool pool(/*num_threads=*/2);
//   pool.Schedule([reactor, response] { ...; reactor->Finish(grpc::Status::OK); });
//   pool.Shutdown();  // runs everything already scheduled, then joins
//
// Thread safety: Schedule may be called from any thread. Work runs in FIFO order on whichever
// thread is free.
#ifndef AGGREGATOR_SERVE_WORK_POOL_H_
#define AGGREGATOR_SERVE_WORK_POOL_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace pinning::aggregator {

class WorkPool {
 public:
  // Starts `num_threads` (>= 1) threads, named `name` (at most 15 characters shown; `top -H`,
  // `perf report --sort comm`).
  explicit WorkPool(int num_threads, const char* name = "work-pool");
  // The destructor calls Shutdown().
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Schedule queues `work`. After Shutdown has begun, `work` runs on the calling thread.
  void Schedule(absl::AnyInvocable<void() &&> work) ABSL_LOCKS_EXCLUDED(mu_);

  // Shutdown runs all queued work, then joins the threads. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_WORK_POOL_H_
