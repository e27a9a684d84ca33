#pragma once
// A batch in device memory: what get_batch(device="cuda") returns and DLPack exports with
// device type CUDA. The memory is freed when the last holder (Python object, row view or DLPack
// consumer) lets go; it is never reused for a later batch.
//
// Readiness: the producer's stream records `ready` after the batch's last kernel. Consumers
// never read before that: DLPack export makes the consumer's stream wait on it, and host copies
// wait on it.
//
// Memory is stream-ordered (stream_memory.hpp): allocated on the producer's stream and freed,
// when the last holder lets go, on that stream after `ready` and after the work queued so far
// on every stream a DLPack consumer named. As with any stream-ordered allocator (PyTorch's
// record_stream rule), a consumer that uses the memory on a stream other than the one it
// named at export synchronizes that stream itself before letting go. Freeing never waits.
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "stream_memory.hpp"
#include "tensor/dlpack_stream.hpp"
#include "tensor/tensor.hpp"

namespace bwl::cuda {

// The allocation and its readiness event, shared by a tensor and its row views.
struct DeviceStorage {
  // `bytes` on `home`'s device, allocated on `home`; DeviceError when it cannot.
  DeviceStorage(std::shared_ptr<OwnedStream> home, size_t bytes);
  ~DeviceStorage();
  DeviceStorage(const DeviceStorage&) = delete;
  DeviceStorage& operator=(const DeviceStorage&) = delete;

  // Remembers a consumer's stream: the free is ordered after its work.
  void add_consumer(cudaStream_t consumer);

  std::shared_ptr<OwnedStream> home;
  int device;
  void* data = nullptr;
  cudaEvent_t ready = nullptr;

 private:
  std::mutex consumers_mutex_;
  std::vector<cudaStream_t> consumers_;
};

class DeviceTensor : public Tensor {
 public:
  // Allocated on `producer`, which queues the work that fills it.
  DeviceTensor(std::shared_ptr<OwnedStream> producer, std::vector<int64_t> shape, DType dtype);

  // Rows [start, stop) of the first axis, sharing this tensor's memory and readiness.
  // Throws InvalidArgument unless 0 <= start <= stop <= shape[0].
  std::shared_ptr<DeviceTensor> rows(int64_t start, int64_t stop) const;

  void* data() const { return data_; }
  int device() const { return storage_->device; }

  // The contents are complete once the work queued on `producer` so far has run.
  void record_ready(cudaStream_t producer);
  // Queues a wait on `consumer` for the contents (no host wait); the memory is freed after
  // the work the consumer queues there.
  void make_stream_wait(cudaStream_t consumer) const;
  // For producer-side work (the transforms) that re-records `ready` when done: queues a wait
  // on `stream` for the contents, without counting `stream` as a consumer.
  void order_after_ready(cudaStream_t stream) const;
  // Copies the contents to `dst` (host memory of nbytes()), after they are ready.
  void copy_to_host(void* dst) const;

 private:
  DeviceTensor(std::vector<int64_t> shape, DType dtype, std::shared_ptr<DeviceStorage> storage, void* data)
      : Tensor(std::move(shape), dtype), storage_(std::move(storage)), data_(data) {}

  std::shared_ptr<DeviceStorage> storage_;
  void* data_;
};

// The cudaStream_t that DLPack's stream argument names (tensor/dlpack_stream.hpp: -1 none,
// None, 0 and 1 the legacy default stream, 2 the per-thread default stream, else a handle).
// Returns false for -1; InvalidArgument for other negative values.
bool consumer_stream(const int64_t* stream_or_null, cudaStream_t* stream);

}  // namespace bwl::cuda
