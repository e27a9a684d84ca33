#include "tensor/host_buffers.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace bwl {
namespace {

class IdleBuffers {
 public:
  // A buffer of exactly `bytes` (a multiple of the alignment) from the idle or the lazily freed
  // list, or nullptr.
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto* list : {&idle_, &lazy_}) {
      for (size_t i = list->size(); i-- > 0;) {  // newest first: likeliest still in cache
        if ((*list)[i].second == bytes) {
          void* p = (*list)[i].first;
          list->erase(list->begin() + static_cast<std::ptrdiff_t>(i));  // keeps the rest oldest first
          (list == &idle_ ? idle_bytes_ : lazy_bytes_) -= bytes;
          return p;
        }
      }
    }
    return nullptr;
  }

  // Keeps `p` for reuse, freeing the oldest idle buffers first when keeping it would pass
  // kMaxIdleBytes or kMaxIdleBuffers (so that buffers of a shape no longer asked for make way for
  // today's). One larger than kMaxIdleBufferBytes is kept lazily freed (kMaxLazyBuffers of them
  // at most, the oldest freed first); where the kernel refuses that advice, one that fits the
  // idle bound is kept idle instead.
  void give(void* p, size_t bytes) {
    std::vector<void*> dropped;
    if (bytes > kMaxIdleBufferBytes) {
      if (bytes > max_lazy_bytes()) {
        std::free(p);
        return;
      }
      // The kernel may take the pages back whenever it needs memory (then they read as zeros,
      // faulted in again); until it does, a buffer of the same size reused costs no faults and
      // no zeroing: at 10,000 tracks a batch of 64 x 2 kb is 5 GB, and zeroing fresh pages took
      // 40% of its time. Outside the lock: a system call over gigabytes.
      bool lazily_freed = false;
#ifdef MADV_FREE
      lazily_freed = madvise(p, bytes, MADV_FREE) == 0;
#endif
      if (lazily_freed) {
        std::lock_guard<std::mutex> lock(mutex_);
        lazy_.emplace_back(p, bytes);
        lazy_bytes_ += bytes;
        while (lazy_.size() > kMaxLazyBuffers || lazy_bytes_ > max_lazy_bytes()) {
          dropped.push_back(lazy_.front().first);
          lazy_bytes_ -= lazy_.front().second;
          lazy_.erase(lazy_.begin());
        }
      } else if (bytes > kMaxIdleBytes) {
        std::free(p);  // refused, and too large to keep whole
        return;
      } else {
        keep_idle(p, bytes, dropped);
      }
    } else {
      keep_idle(p, bytes, dropped);
    }
    for (void* q : dropped) std::free(q);  // outside the lock
  }

  size_t idle_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_bytes_;
  }

  size_t lazy_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lazy_.size();
  }

 private:
  // Puts `p` at the back of the idle list, moving the oldest to `dropped` (to be freed outside
  // the lock) until the list is within kMaxIdleBytes and kMaxIdleBuffers. Needs bytes <=
  // kMaxIdleBytes: the list can always make room.
  void keep_idle(void* p, size_t bytes, std::vector<void*>& dropped) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t oldest = 0;
    while (idle_bytes_ + bytes > kMaxIdleBytes || idle_.size() - oldest + 1 > kMaxIdleBuffers) {
      dropped.push_back(idle_[oldest].first);
      idle_bytes_ -= idle_[oldest].second;
      ++oldest;
    }
    idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(oldest));
    idle_.emplace_back(p, bytes);
    idle_bytes_ += bytes;
  }

  mutable std::mutex mutex_;
  std::vector<std::pair<void*, size_t>> idle_;  // oldest first
  size_t idle_bytes_ = 0;
  std::vector<std::pair<void*, size_t>> lazy_;  // larger than kMaxIdleBufferBytes, lazily freed; oldest first
  size_t lazy_bytes_ = 0;

  // The lazily freed buffers' bound in bytes: a quarter of the machine's memory (their pages
  // count in the process's RSS until the kernel takes them back).
  static size_t max_lazy_bytes() {
    static const size_t bound = [] {
      const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
      return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : kMaxIdleBytes;
    }();
    return bound;
  }
};

// Never destroyed: a tensor may be released after static destructors have run (the interpreter
// frees Python objects late), and its deleter must still find the list. A child made by fork()
// starts with a new, empty list: another thread of the parent may have held the mutex at the
// fork, and the child would wait on it forever (the parent's idle buffers are left to it).
IdleBuffers* current_idle_buffers = nullptr;

IdleBuffers& idle_buffers() {
  static const bool made = [] {
    current_idle_buffers = new IdleBuffers();
    pthread_atfork(nullptr, nullptr, [] { current_idle_buffers = new IdleBuffers(); });
    return true;
  }();
  (void)made;
  return *current_idle_buffers;
}

// A buffer of `size` bytes from the system. From kHugePageBytes up, aligned to a huge page and
// marked for transparent huge pages: the first touch of each 2 MiB then costs one fault instead
// of 512, and a batch of 50,000 x 1 kb (200 MB) filled into fresh memory ran at ~40% of the
// speed of one filled into a reused `out=`. Where THP is off (or "never") madvise fails or is
// ignored and the buffer is ordinary pages, as before.
void* fresh_buffer(size_t size) {
  if (size < kHugePageBytes) {
    void* p = std::aligned_alloc(kHostBufferAlign, size);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void* p = std::aligned_alloc(kHugePageBytes, size);  // size: a multiple of kHugePageBytes
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)madvise(p, size, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
  return p;
}

}  // namespace

std::shared_ptr<void> allocate_host_buffer(size_t bytes) {
  // Huge-page buffers are whole huge pages: the size recycled and counted is what they hold.
  const size_t align = bytes >= kHugePageBytes ? kHugePageBytes : kHostBufferAlign;
  const size_t size = ((bytes == 0 ? 1 : bytes) + align - 1) / align * align;
  if (size < kMinRecycledBytes) {
    void* p = std::aligned_alloc(kHostBufferAlign, size);
    if (p == nullptr) throw std::bad_alloc();
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
  void* p = idle_buffers().take(size);
  if (p == nullptr) p = fresh_buffer(size);
  return std::shared_ptr<void>(p, [size](void* q) { idle_buffers().give(q, size); });
}

size_t idle_host_buffer_bytes() { return idle_buffers().idle_bytes(); }

size_t lazily_freed_host_buffers() { return idle_buffers().lazy_count(); }

}  // namespace bwl
