#pragma once
// Reusable memory of one CUDA worker: device buffers and pinned host buffers that only grow
// (geometrically), so a warm worker allocates nothing per batch. Not shared between workers.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "cuda_check.hpp"

namespace bwl::cuda {

// Grows geometrically; contents are not kept across a grow (every batch rewrites what it uses).
template <bool kPinnedHost>
class GrowingBuffer {
 public:
  GrowingBuffer() = default;
  ~GrowingBuffer() { release(); }
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;

  // At least `bytes` bytes (256-byte aligned, as cudaMalloc and cudaMallocHost give). A grow
  // waits for the device's queued work first, which may still read the old memory; grows are
  // rare (geometric), so the wait costs nothing once warm.
  void* reserve(size_t bytes) {
    if (bytes <= capacity_) return data_;
    size_t grown = capacity_ + capacity_ / 2;
    if (grown < bytes) grown = bytes;
    release();
    if (kPinnedHost) {
      BWL_CUDA_CHECK(cudaMallocHost(&data_, grown));
    } else {
      BWL_CUDA_CHECK(cudaMalloc(&data_, grown));
    }
    capacity_ = grown;
    return data_;
  }
  template <typename T>
  T* reserve_as(size_t count) {
    return static_cast<T*>(reserve(count * sizeof(T)));
  }
  void* data() const { return data_; }

 private:
  void release() {
    if (data_ == nullptr) return;
    cudaDeviceSynchronize();
    if (kPinnedHost) {
      cudaFreeHost(data_);
    } else {
      cudaFree(data_);
    }
    data_ = nullptr;
    capacity_ = 0;
  }
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

using DeviceBuffer = GrowingBuffer<false>;
using PinnedBuffer = GrowingBuffer<true>;

}  // namespace bwl::cuda
