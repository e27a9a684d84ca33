#pragma once
// StreamedDataloader: batches loaded ahead of the consumer by a pool of workers.
//
//   submit() -> input queue -> workers (one BatchProcessor each) -> results, by sequence number
//   -> next() hands them out in submission order, whatever the number of workers.
//
// Back-pressure: at most `queue_size` batches are submitted and not yet taken; submit() waits
// for room. Memory is therefore bounded by queue_size batches.
// Errors: an exception while loading a batch is kept with that batch and rethrown by the next()
// that reaches it, with its type and message. Nothing ends silently and nothing times out.
// Shutdown: close() (also from the destructor) wakes every waiter and joins every worker; a
// batch being loaded finishes first (one batch's time at most). Any number of threads may call
// close() at once: each returns once every worker has stopped.
// Start: when the system refuses to start a worker thread the constructor stops the ones it
// started and throws ThreadStartError; nothing is left running.
//
// Thread contract: submit() from one producer thread, next() from one consumer thread, close()
// from any thread; the collection must outlive the loader.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "engine/batch_processor.hpp"
#include "tensor/tensor.hpp"

namespace bwl::loader {

enum class WaitResult { Ready, TimedOut, Closed };

class StreamedDataloader {
 public:
  // One worker per processor: each worker owns its processor (with that processor's scratch and,
  // for a CUDA processor, its own stream and device buffers), so its loads never wait.
  StreamedDataloader(const engine::Collection& collection,
                     std::vector<std::unique_ptr<engine::BatchProcessor>> processors, size_t queue_size);
  ~StreamedDataloader();
  StreamedDataloader(const StreamedDataloader&) = delete;
  StreamedDataloader& operator=(const StreamedDataloader&) = delete;

  // Queues one batch, waiting at most `timeout` for room. Closed: the loader was closed.
  WaitResult submit(engine::BatchRequest request, std::chrono::milliseconds timeout);

  // The next batch in submission order, waiting at most `timeout`. Rethrows that batch's error.
  // Closed: the loader was closed.
  WaitResult next(engine::LoadedBatch& batch, std::chrono::milliseconds timeout);

  void close();
  bool closed() const;
  size_t num_workers() const;  // running workers: 0 once closed

 private:
  struct Job {
    uint64_t sequence;
    engine::BatchRequest request;
  };
  struct Result {
    engine::LoadedBatch batch;
    std::exception_ptr error;
  };

  void worker_loop(size_t index);

  const engine::Collection& collection_;
  const size_t queue_size_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;    // workers wait for jobs
  std::condition_variable result_ready_;  // the consumer waits for the next result
  std::condition_variable room_ready_;    // the producer waits for room
  std::deque<Job> jobs_;
  std::map<uint64_t, Result> results_;  // finished, not yet taken
  uint64_t submitted_ = 0;
  uint64_t taken_ = 0;
  bool closed_ = false;
  std::vector<std::unique_ptr<engine::BatchProcessor>> processors_;  // one per worker
  std::vector<std::thread> workers_;                                 // guarded by mutex_; joined under join_mutex_
  std::mutex join_mutex_;                                            // held by the close() that joins the workers
};

}  // namespace bwl::loader
