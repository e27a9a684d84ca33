#include "loader/streamed_dataloader.hpp"

#include "common/errors.hpp"

namespace bwl::loader {

StreamedDataloader::StreamedDataloader(const engine::Collection& collection,
                                       std::vector<std::unique_ptr<engine::BatchBackend>> backends, size_t queue_size)
    : collection_(collection), queue_size_(queue_size) {
  if (backends.empty()) throw InvalidArgument("num_threads must be at least 1");
  if (queue_size == 0) throw InvalidArgument("queue_size must be at least 1");
  for (auto& backend : backends) contexts_.push_back(std::make_unique<WorkerContext>(std::move(backend)));
  for (size_t i = 0; i < contexts_.size(); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

StreamedDataloader::~StreamedDataloader() { close(); }

void StreamedDataloader::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ && workers_.empty()) return;
    closed_ = true;
    jobs_.clear();
  }
  work_ready_.notify_all();
  result_ready_.notify_all();
  room_ready_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable() && w.get_id() != std::this_thread::get_id()) w.join();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  workers_.clear();
  results_.clear();
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

WaitResult StreamedDataloader::next(std::shared_ptr<Tensor>& values, std::chrono::milliseconds timeout) {
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
  values = std::move(result.values);
  return WaitResult::Ready;
}

void StreamedDataloader::worker_loop(size_t index) {
  WorkerContext& context = *contexts_[index];
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
      result.values = context.load(collection_, job.request);
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
