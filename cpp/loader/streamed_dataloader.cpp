#include "loader/streamed_dataloader.hpp"

#include <string>

#include "common/errors.hpp"
#include "common/thread_start.hpp"

namespace bwl::loader {

StreamedDataloader::StreamedDataloader(const engine::Collection& collection,
                                       std::vector<std::unique_ptr<engine::BatchProcessor>> processors,
                                       size_t queue_size)
    : collection_(collection), queue_size_(queue_size), processors_(std::move(processors)) {
  if (processors_.empty()) throw InvalidArgument("num_threads must be at least 1");
  if (queue_size == 0) throw InvalidArgument("queue_size must be at least 1");
  try {
    for (size_t i = 0; i < processors_.size(); ++i) {
      std::thread t = start_thread([this, i] { worker_loop(i); }, "loader worker " + std::to_string(i + 1) + " of " +
                                                                      std::to_string(processors_.size()));
      std::lock_guard<std::mutex> lock(mutex_);
      workers_.push_back(std::move(t));
    }
  } catch (...) {
    close();  // the destructor does not run for a constructor that throws
    throw;
  }
}

StreamedDataloader::~StreamedDataloader() { close(); }

void StreamedDataloader::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    jobs_.clear();
  }
  work_ready_.notify_all();
  result_ready_.notify_all();
  room_ready_.notify_all();
  // One closer joins; a concurrent close() waits here until the workers are gone, so every
  // close() returns with nothing running, and no thread is joined twice.
  std::lock_guard<std::mutex> joining(join_mutex_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& w : workers) {
    if (w.get_id() == std::this_thread::get_id()) {
      w.detach();  // close() from a worker's own call chain: it returns to worker_loop, which sees closed_
    } else {
      w.join();
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  results_.clear();
}

size_t StreamedDataloader::num_workers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.size();
}

bool StreamedDataloader::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

WaitResult StreamedDataloader::submit(engine::BatchRequest request, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const bool room = room_ready_.wait_for(lock, timeout, [&] { return closed_ || submitted_ - taken_ < queue_size_; });
  if (closed_) return WaitResult::Closed;
  if (!room) return WaitResult::TimedOut;
  jobs_.push_back(Job{submitted_++, std::move(request)});
  lock.unlock();
  work_ready_.notify_one();
  return WaitResult::Ready;
}

WaitResult StreamedDataloader::next(engine::LoadedBatch& batch, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const bool ready = result_ready_.wait_for(lock, timeout, [&] { return closed_ || results_.count(taken_) > 0; });
  if (closed_) return WaitResult::Closed;
  if (!ready) return WaitResult::TimedOut;
  auto it = results_.find(taken_);
  Result result = std::move(it->second);
  results_.erase(it);
  ++taken_;
  lock.unlock();
  room_ready_.notify_one();
  if (result.error) std::rethrow_exception(result.error);
  batch = std::move(result.batch);
  return WaitResult::Ready;
}

void StreamedDataloader::worker_loop(size_t index) {
  engine::BatchProcessor& processor = *processors_[index];
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
      if (closed_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Result result;
    try {
      result.batch = processor.load(collection_, job.request);
    } catch (...) {
      result.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;
      results_.emplace(job.sequence, std::move(result));
    }
    result_ready_.notify_all();
  }
}

}  // namespace bwl::loader
