#pragma once
// An uninitialised buffer that only grows, geometrically: per-worker scratch that stops
// allocating once it has seen the largest block of a workload.
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

namespace bwl {

template <typename T>
class ScratchBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "scratch holds plain structs, copied as bytes");

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
  // Returns room for at least `n` elements, the first `keep` (<= capacity) kept (T is copied as
  // bytes: the buffers hold plain structs).
  T* reserve_keeping(size_t n, size_t keep) {
    if (n > capacity_) {
      size_t grown = capacity_ * 2;
      grown = grown > n ? grown : n;
      std::unique_ptr<T[]> bigger(new T[grown]);
      if (keep > 0) std::memcpy(bigger.get(), data_.get(), keep * sizeof(T));
      data_ = std::move(bigger);
      capacity_ = grown;
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
