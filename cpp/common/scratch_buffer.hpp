#pragma once
// An uninitialised buffer that only grows, geometrically: per-worker scratch that stops
// allocating once it has seen the largest block of a workload.
#include <cstddef>
#include <memory>

namespace bwl {

template <typename T>
class ScratchBuffer {
 public:
  // Returns room for at least `n` elements; earlier contents are not kept.
  T* reserve(size_t n) {
    if (n > capacity_) {
      size_t grown = capacity_ * 2;
      capacity_ = grown > n ? grown : n;
      data_.reset(new T[capacity_]);
    }
    return data_.get();
  }
  T* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<T[]> data_;
  size_t capacity_ = 0;
};

}  // namespace bwl
