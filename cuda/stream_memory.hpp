#pragma once
// Stream-ordered device memory and the streams it is ordered on.
//
// Every device allocation of the backend (batch tensors, worker scratch, transform scratch)
// comes from one memory pool per device with cudaMallocFromPoolAsync and goes back with
// cudaFreeAsync: neither waits for the device, so no batch ever stalls other streams (a
// training step's included), as cudaFree and cudaDeviceSynchronize do. The pool keeps what is
// freed (release threshold: unlimited), so a warm worker is served without the driver; reuse
// across streams follows the pool's event dependencies, which keeps it safe.
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>

namespace bwl::cuda {

// This process's pool on `device`, created on first use (DeviceError if the device has no
// memory-pool support or the pool cannot be made).
cudaMemPool_t device_pool(int device);

// `bytes` (at least 1) of device memory on `device`, usable by work queued on `stream` after
// this call (and by other streams once they wait for `stream`). Throws DeviceError.
void* allocate_async(size_t bytes, int device, cudaStream_t stream);

// Returns `memory` to its pool once the work queued on `stream` so far has run. Never throws
// (a failure is dropped with the last error it set); null is ignored.
void free_async(void* memory, cudaStream_t stream) noexcept;

// A non-blocking stream on one device, shared by a processor and every tensor it produced:
// tensors free their memory on it, so it lives as long as the last of them.
class OwnedStream {
 public:
  explicit OwnedStream(int device);  // DeviceError when the stream cannot be made
  ~OwnedStream();
  OwnedStream(const OwnedStream&) = delete;
  OwnedStream& operator=(const OwnedStream&) = delete;

  cudaStream_t get() const { return stream_; }
  int device() const { return device_; }

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
};

// A stream per device for uploads of host tensors (to_device), made once, never destroyed
// (tensors may outlive every other object of the process's CUDA use).
std::shared_ptr<OwnedStream> upload_stream(int device);

}  // namespace bwl::cuda
