#pragma once
// A batch in device memory: what get_batch(device="cuda") returns and DLPack exports with
// device type CUDA. The memory is freed when the last holder (Python object, row view or DLPack
// consumer) lets go; it is never reused for a later batch.
//
// Readiness: the producer's stream records `ready` after the batch's last kernel. Consumers
// never read before that: DLPack export makes the consumer's stream wait on it, and host copies
// wait on it.
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "tensor/tensor.hpp"

namespace bwl::cuda {

// The allocation and its readiness event, shared by a tensor and its row views.
struct DeviceStorage {
  DeviceStorage(int device, size_t bytes);  // cudaMalloc; DeviceError when it cannot
  ~DeviceStorage();
  DeviceStorage(const DeviceStorage&) = delete;
  DeviceStorage& operator=(const DeviceStorage&) = delete;

  int device;
  void* data = nullptr;
  cudaEvent_t ready = nullptr;
};

class DeviceTensor : public Tensor {
 public:
  DeviceTensor(int device, std::vector<int64_t> shape, DType dtype);

  // Rows [start, stop) of the first axis, sharing this tensor's memory and readiness.
  // Throws InvalidArgument unless 0 <= start <= stop <= shape[0].
  std::shared_ptr<DeviceTensor> rows(int64_t start, int64_t stop) const;

  void* data() const { return data_; }
  int device() const { return storage_->device; }

  // The contents are complete once the work queued on `producer` so far has run.
  void record_ready(cudaStream_t producer);
  // Queues a wait on `consumer` for the contents (no host wait).
  void make_stream_wait(cudaStream_t consumer) const;
  // Copies the contents to `dst` (host memory of nbytes()), after they are ready.
  void copy_to_host(void* dst) const;

 private:
  DeviceTensor(std::vector<int64_t> shape, DType dtype, std::shared_ptr<DeviceStorage> storage, void* data)
      : Tensor(std::move(shape), dtype), storage_(std::move(storage)), data_(data) {}

  std::shared_ptr<DeviceStorage> storage_;
  void* data_;
};

// DLPack's stream argument (array API): -1 no synchronization; None and 1 the legacy default
// stream; 2 the per-thread default stream; anything else a cudaStream_t handle. Returns false
// for -1; 0 is ambiguous in the standard and rejected (InvalidArgument).
bool consumer_stream(const int64_t* stream_or_null, cudaStream_t* stream);

}  // namespace bwl::cuda
