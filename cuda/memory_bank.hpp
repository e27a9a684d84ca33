#pragma once
// MemoryBank: everything the host prepares for one batch (the planned blocks' stored bytes and
// the flat plan arrays), laid out in one pinned host region that mirrors one device region, so a
// single asynchronous host-to-device copy moves it all.
//
// Use: reset(); take<T>(n) for each array (host pointer to write, device pointer for kernels);
// commit() sizes both regions; write the host sides; upload(stream). The layout is computed
// before any byte is written, so a grow never moves written data.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "device_memory.hpp"

namespace bwl::cuda {

class MemoryBank {
 public:
  // A slice of the bank, valid after commit() until the next reset().
  template <typename T>
  struct Slot {
    size_t offset;
    size_t count;
  };

  void reset() { used_ = 0; }

  template <typename T>
  Slot<T> take(size_t count) {
    constexpr size_t kAlign = 64;
    used_ = (used_ + kAlign - 1) / kAlign * kAlign;
    Slot<T> slot{used_, count};
    used_ += count * sizeof(T);
    return slot;
  }

  // Sizes both regions for `bytes` up front (a batch that needs more still grows them); the
  // device region is used on `stream`.
  void reserve(size_t bytes, int device, cudaStream_t stream) {
    host_base_ = static_cast<uint8_t*>(host_.reserve(bytes > 0 ? bytes : 1));
    device_base_ = static_cast<uint8_t*>(device_.reserve(bytes > 0 ? bytes : 1, device, stream));
  }

  // Makes both regions at least as large as what was taken since reset(); the device region is
  // used on `stream`.
  void commit(int device, cudaStream_t stream) {
    host_base_ = static_cast<uint8_t*>(host_.reserve(used_ > 0 ? used_ : 1));
    device_base_ = static_cast<uint8_t*>(device_.reserve(used_ > 0 ? used_ : 1, device, stream));
  }

  template <typename T>
  T* host(const Slot<T>& s) const {
    return reinterpret_cast<T*>(host_base_ + s.offset);
  }
  template <typename T>
  T* device(const Slot<T>& s) const {
    return reinterpret_cast<T*>(device_base_ + s.offset);
  }

  // One copy of everything taken, queued on `stream`. The host side must not be rewritten until
  // that copy has finished (the caller's batch synchronizes before its next reset()).
  void upload(cudaStream_t stream) const {
    if (used_ > 0) BWL_CUDA_CHECK(cudaMemcpyAsync(device_base_, host_base_, used_, cudaMemcpyHostToDevice, stream));
  }

  size_t bytes() const { return used_; }

  // Returns the device region to its pool (the host region goes with the bank).
  void release_device() noexcept { device_.release(); }

 private:
  PinnedBuffer host_;
  DeviceBuffer device_;
  uint8_t* host_base_ = nullptr;
  uint8_t* device_base_ = nullptr;
  size_t used_ = 0;
};

}  // namespace bwl::cuda
