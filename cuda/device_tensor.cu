#include "device_tensor.hpp"

#include <string>

#include "cuda_check.hpp"

namespace bwl::cuda {

DeviceStorage::DeviceStorage(int device_ordinal, size_t bytes) : device(device_ordinal) {
  DeviceGuard guard(device);
  BWL_CUDA_CHECK(cudaMalloc(&data, bytes > 0 ? bytes : 1));
  const cudaError_t status = cudaEventCreateWithFlags(&ready, cudaEventDisableTiming);
  if (status != cudaSuccess) {
    cudaFree(data);
    check(status, "cudaEventCreateWithFlags");
  }
}

DeviceStorage::~DeviceStorage() {
  // cudaFree waits for the device's queued work, so a consumer kernel still reading this
  // memory on any stream finishes first.
  cudaSetDevice(device);
  cudaEventDestroy(ready);
  cudaFree(data);
}

DeviceTensor::DeviceTensor(int device, std::vector<int64_t> shape, DType dtype)
    : Tensor(std::move(shape), dtype), storage_(std::make_shared<DeviceStorage>(device, nbytes())),
      data_(storage_->data) {}

std::shared_ptr<DeviceTensor> DeviceTensor::rows(int64_t start, int64_t stop) const {
  size_t offset;
  std::vector<int64_t> shape = row_range(start, stop, &offset);
  return std::shared_ptr<DeviceTensor>(
      new DeviceTensor(std::move(shape), dtype_, storage_, static_cast<char*>(data_) + offset));
}

void DeviceTensor::record_ready(cudaStream_t producer) {
  DeviceGuard guard(device());
  BWL_CUDA_CHECK(cudaEventRecord(storage_->ready, producer));
}

void DeviceTensor::make_stream_wait(cudaStream_t consumer) const {
  DeviceGuard guard(device());
  BWL_CUDA_CHECK(cudaStreamWaitEvent(consumer, storage_->ready, 0));
}

void DeviceTensor::copy_to_host(void* dst) const {
  DeviceGuard guard(device());
  BWL_CUDA_CHECK(cudaEventSynchronize(storage_->ready));
  if (nbytes() > 0) BWL_CUDA_CHECK(cudaMemcpy(dst, data_, nbytes(), cudaMemcpyDeviceToHost));
}

bool consumer_stream(const int64_t* stream_or_null, cudaStream_t* stream) {
  if (stream_or_null == nullptr || *stream_or_null == 1) {
    *stream = cudaStreamLegacy;
    return true;
  }
  const int64_t s = *stream_or_null;
  if (s == -1) return false;
  if (s == 0) throw InvalidArgument("__dlpack__(stream=0) is ambiguous for CUDA: pass 1 for the legacy default stream");
  if (s == 2) {
    *stream = cudaStreamPerThread;
    return true;
  }
  if (s < 0) throw InvalidArgument("__dlpack__: stream must be None, -1, 1, 2 or a CUDA stream handle");
  *stream = reinterpret_cast<cudaStream_t>(static_cast<uintptr_t>(s));
  return true;
}

}  // namespace bwl::cuda
