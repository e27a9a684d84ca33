#include "tensor/host_buffers.hpp"

#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace bwl {
namespace {

class IdleBuffers {
 public:
  // A buffer of exactly `bytes` (a multiple of the alignment) from the idle list, or nullptr.
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = idle_.size(); i-- > 0;) {  // newest first: likeliest still in cache
      if (idle_[i].second == bytes) {
        void* p = idle_[i].first;
        idle_[i] = idle_.back();
        idle_.pop_back();
        idle_bytes_ -= bytes;
        return p;
      }
    }
    return nullptr;
  }

  // Keeps `p` for reuse, or frees it when keeping it would pass kMaxIdleBytes.
  void give(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_bytes_ + bytes <= kMaxIdleBytes) {
        idle_.emplace_back(p, bytes);
        idle_bytes_ += bytes;
        return;
      }
    }
    std::free(p);
  }

  size_t idle_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_bytes_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<void*, size_t>> idle_;
  size_t idle_bytes_ = 0;
};

// Never destroyed: a tensor may be released after static destructors have run (the interpreter
// frees Python objects late), and its deleter must still find the list.
IdleBuffers& idle_buffers() {
  static IdleBuffers* buffers = new IdleBuffers();
  return *buffers;
}

}  // namespace

std::shared_ptr<void> allocate_host_buffer(size_t bytes) {
  const size_t size = ((bytes == 0 ? 1 : bytes) + kHostBufferAlign - 1) / kHostBufferAlign * kHostBufferAlign;
  if (size < kMinRecycledBytes) {
    void* p = std::aligned_alloc(kHostBufferAlign, size);
    if (p == nullptr) throw std::bad_alloc();
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
  void* p = idle_buffers().take(size);
  if (p == nullptr) p = std::aligned_alloc(kHostBufferAlign, size);
  if (p == nullptr) throw std::bad_alloc();
  return std::shared_ptr<void>(p, [size](void* q) { idle_buffers().give(q, size); });
}

size_t idle_host_buffer_bytes() { return idle_buffers().idle_bytes(); }

}  // namespace bwl
