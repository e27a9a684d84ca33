#pragma once
// A fixed pool of worker threads running index ranges: parallel_for(n, f) calls f(i, worker)
// for every i in [0, n) and returns when all are done. `worker` (0..size()-1) names the thread,
// so each task can use that worker's own scratch without locks.
//
// Construction starts size() - 1 threads; when the system refuses one it stops the ones started
// and throws ThreadStartError (common/thread_start.hpp): nothing is left running.
//
// Thread contract: one parallel_for at a time per pool (callers serialise); the first exception
// thrown by a task is rethrown to the caller after every task has stopped.
//
// A worker that runs out of tasks watches for the next parallel_for for 100 us before it sleeps
// (thread_pool.cpp, kSpin): waking a sleeping thread costs as much as a small task.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bwl {

class ThreadPool {
 public:
  // n_threads == 0: the CPUs this process may run on.
  explicit ThreadPool(size_t n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }  // the calling thread works too

  void parallel_for(size_t n, const std::function<void(size_t index, size_t worker)>& task);

  // CPUs in this process's affinity mask (at least 1).
  static size_t available_cpus();

 private:
  void worker_loop(size_t worker);
  void stop_and_join();
  void run_tasks(size_t worker, std::unique_lock<std::mutex>& lock);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* task_ = nullptr;
  size_t n_tasks_ = 0;
  size_t next_ = 0;
  size_t active_ = 0;
  std::atomic<size_t> generation_{0};  // written under mutex_; read without it by a spinning worker
  std::atomic<bool> stopping_{false};  // likewise
  std::exception_ptr error_;
};

}  // namespace bwl
