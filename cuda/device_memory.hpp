#pragma once
// Reusable memory of one CUDA worker: device buffers and pinned host buffers that only grow
// (geometrically), so a warm worker allocates nothing per batch. Not shared between workers.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "cuda_check.hpp"
#include "stream_memory.hpp"

namespace bwl::cuda {

inline size_t grown_capacity(size_t capacity, size_t bytes) {
  const size_t grown = capacity + capacity / 2;
  return grown < bytes ? bytes : grown;
}

// Device scratch, stream-ordered: a grow frees the old memory on `stream` (after the work
// queued there, which may still read it) and allocates the new on it, so a grow never waits.
// Invariant: a buffer is used on one stream (or streams that wait for it), the one passed in.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { release(); }

  // Returns the memory to the pool (stream-ordered); the buffer is empty after.
  void release() noexcept {
    if (data_ == nullptr) return;
    DeviceGuard guard(device_, std::nothrow);  // its stream's device, whatever is current
    if (guard.ok()) free_async(data_, stream_);
    data_ = nullptr;
    capacity_ = 0;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // At least `bytes` bytes (256-byte aligned); contents are not kept across a grow.
  void* reserve(size_t bytes, int device, cudaStream_t stream) { return reserve_keeping(bytes, 0, device, stream); }
  // As reserve, keeping the first `keep` bytes (a stream-ordered device copy on a grow).
  void* reserve_keeping(size_t bytes, size_t keep, int device, cudaStream_t stream) {
    if (bytes <= capacity_ && data_ != nullptr) return data_;
    const size_t grown = grown_capacity(capacity_, bytes);
    void* fresh = allocate_async(grown, device, stream);
    if (keep > 0 && data_ != nullptr) {
      const cudaError_t status =
          cudaMemcpyAsync(fresh, data_, keep < capacity_ ? keep : capacity_, cudaMemcpyDeviceToDevice, stream);
      if (status != cudaSuccess) {
        free_async(fresh, stream);
        check(status, "cudaMemcpyAsync(grow)");
      }
    }
    free_async(data_, stream);  // after the copy above and the work queued before it
    data_ = fresh;
    capacity_ = grown;
    stream_ = stream;
    device_ = device;
    return data_;
  }
  template <typename T>
  T* reserve_as(size_t count, int device, cudaStream_t stream) {
    return static_cast<T*>(reserve(count * sizeof(T), device, stream));
  }
  void* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
  cudaStream_t stream_ = nullptr;  // where the memory was last ordered: freed there
  int device_ = 0;
};

// Pinned host staging. Precondition of a grow: no queued copy reads or writes the old memory
// (the owner's batch synchronizes with its copies before it reserves again); grows are rare
// (geometric), and cudaFreeHost/cudaMallocHost are the only waits they add.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer() {
    if (data_ != nullptr) discard(cudaFreeHost(data_));
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* reserve(size_t bytes) {
    if (bytes <= capacity_ && data_ != nullptr) return data_;
    const size_t grown = grown_capacity(capacity_, bytes);
    if (data_ != nullptr) {
      discard(cudaFreeHost(data_));
      data_ = nullptr;
      capacity_ = 0;
    }
    BWL_CUDA_CHECK(cudaMallocHost(&data_, grown));
    capacity_ = grown;
    return data_;
  }
  template <typename T>
  T* reserve_as(size_t count) {
    return static_cast<T*>(reserve(count * sizeof(T)));
  }
  void* data() const { return data_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace bwl::cuda
