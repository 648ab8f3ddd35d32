#include "aggregator/serve/work_pool.h"

#include <pthread.h>

#include <utility>

namespace pinning::aggregator {

WorkPool::WorkPool(int num_threads, const char* name) {
  if (num_threads < 1) num_threads = 1;
  threads_.reserve(num_threads);
  for (int i = 0; i < num_threads; ++i) {
    threads_.emplace_back([this] { Run(); });
    // Linux limits thread names to 15 characters; a longer name is left unset.
    (void)pthread_setname_np(threads_.back().native_handle(), name);
  }
}

WorkPool::~WorkPool() { Shutdown(); }

void WorkPool::Schedule(absl::AnyInvocable<void() &&> work) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(std::move(work));
      return;
    }
  }
  std::move(work)();
}

void WorkPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void WorkPool::Run() {
  while (true) {
    absl::AnyInvocable<void() &&> work;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
            return pool->stopping_ || !pool->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping and drained
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
  }
}

}  // namespace pinning::aggregator
