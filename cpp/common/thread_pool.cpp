#include "common/thread_pool.hpp"

#include <sched.h>

#include <chrono>
#include <string>

#include "common/thread_start.hpp"

namespace bwl {
namespace {
// How long a worker that ran out of tasks watches for the next parallel_for before it sleeps on
// the condition variable. Waking a sleeping thread took 30-40 us on the development VM (a vCPU
// that halted has to be woken by the hypervisor), as long as a block's inflate: in a loop of
// small cold batches the caller ran most tasks alone before the worker was up (4 tracks x 1
// window: 130 -> 83 us a batch with the watch; 16 tracks: 360-400 -> 285 us). 100 us covers the
// caller's own work between two batches (Python, the plan); a worker left idle longer than that
// sleeps, so an idle pool costs no CPU.
constexpr std::chrono::microseconds kSpin{100};
}  // namespace

size_t ThreadPool::available_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<size_t>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1;
}

ThreadPool::ThreadPool(size_t n_threads) {
  if (n_threads == 0) n_threads = available_cpus();
  workers_.reserve(n_threads - 1);
  try {
    for (size_t w = 1; w < n_threads; ++w) {
      workers_.push_back(start_thread(
          [this, w] { worker_loop(w); },
          "worker thread " + std::to_string(w) + " of " + std::to_string(n_threads - 1) + " of a thread pool"));
    }
  } catch (...) {
    stop_and_join();  // the destructor does not run for a constructor that throws
    throw;
  }
}

ThreadPool::~ThreadPool() { stop_and_join(); }

void ThreadPool::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks(size_t worker, std::unique_lock<std::mutex>& lock) {
  // Tasks are taken under the lock and run outside it.
  while (next_ < n_tasks_ && !error_) {
    const size_t i = next_++;
    lock.unlock();
    try {
      (*task_)(i, worker);
    } catch (...) {
      lock.lock();
      if (!error_) error_ = std::current_exception();
      continue;
    }
    lock.lock();
  }
}

void ThreadPool::worker_loop(size_t worker) {
  size_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (!stopping_ && generation_ == seen) {
      lock.unlock();
      const auto until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_relaxed) == seen && !stopping_.load(std::memory_order_relaxed) &&
             std::chrono::steady_clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      lock.lock();
    }
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    // Counted as active from before it takes a task, under the same lock: the caller waits for
    // every worker that may still be running one.
    ++active_;
    run_tasks(worker, lock);
    if (--active_ == 0) done_.notify_all();
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& task) {
  if (n == 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  n_tasks_ = n;
  next_ = 0;
  error_ = nullptr;
  ++generation_;
  if (!workers_.empty() && n > 1) wake_.notify_all();
  run_tasks(0, lock);
  done_.wait(lock, [&] { return active_ == 0; });
  task_ = nullptr;
  n_tasks_ = 0;
  std::exception_ptr error = error_;
  error_ = nullptr;
  lock.unlock();
  if (error) std::rethrow_exception(error);
}

}  // namespace bwl
