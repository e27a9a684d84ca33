#include "device_tensor.hpp"

#include <algorithm>
#include <string>

#include "cuda_check.hpp"

namespace bwl::cuda {

DeviceStorage::DeviceStorage(std::shared_ptr<OwnedStream> home_stream, size_t bytes)
    : home(std::move(home_stream)), device(home->device()) {
  DeviceGuard guard(device);
  BWL_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
  try {
    data = allocate_async(bytes, device, home->get());
  } catch (...) {
    discard(cudaEventDestroy(ready));
    throw;
  }
}

void DeviceStorage::add_consumer(cudaStream_t consumer) {
  // The per-thread default stream names a different stream in the thread that frees: order
  // the free after the legacy default stream instead, which waits for every blocking stream.
  if (consumer == cudaStreamPerThread) consumer = cudaStreamLegacy;
  std::lock_guard<std::mutex> lock(consumers_mutex_);
  if (consumer != home->get() && std::find(consumers_.begin(), consumers_.end(), consumer) == consumers_.end()) {
    consumers_.push_back(consumer);
  }
}

DeviceStorage::~DeviceStorage() {
  // Runs in a DLPack deleter too, possibly with the GIL held: nothing here waits.
  DeviceGuard guard(device, std::nothrow);
  if (!guard.ok()) return;  // the context is gone (process exit): nothing to free
  const cudaStream_t free_on = home->get();
  discard(cudaStreamWaitEvent(free_on, ready, 0));  // after the producer's and transforms' work
  for (cudaStream_t consumer : consumers_) {
    cudaEvent_t done = nullptr;
    if (cudaEventCreateWithFlags(&done, cudaEventDisableTiming) != cudaSuccess) {
      cudaGetLastError();
      discard(cudaStreamSynchronize(consumer));  // cannot order the free: wait for the consumer
      continue;
    }
    discard(cudaEventRecord(done, consumer));
    discard(cudaStreamWaitEvent(free_on, done, 0));
    discard(cudaEventDestroy(done));
  }
  discard(cudaEventDestroy(ready));
  free_async(data, free_on);
}

DeviceTensor::DeviceTensor(std::shared_ptr<OwnedStream> producer, std::vector<int64_t> shape, DType dtype)
    : Tensor(std::move(shape), dtype),
      storage_(std::make_shared<DeviceStorage>(std::move(producer), nbytes())),
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
  storage_->add_consumer(consumer);
}

void DeviceTensor::order_after_ready(cudaStream_t stream) const {
  DeviceGuard guard(device());
  BWL_CUDA_CHECK(cudaStreamWaitEvent(stream, storage_->ready, 0));
}

void DeviceTensor::copy_to_host(void* dst) const {
  DeviceGuard guard(device());
  BWL_CUDA_CHECK(cudaEventSynchronize(storage_->ready));
  if (nbytes() > 0) BWL_CUDA_CHECK(cudaMemcpy(dst, data_, nbytes(), cudaMemcpyDeviceToHost));
}

bool consumer_stream(const int64_t* stream_or_null, cudaStream_t* stream) {
  switch (dlpack_stream_kind(stream_or_null)) {
    case DlpackStream::NoSync: return false;
    case DlpackStream::Legacy: *stream = cudaStreamLegacy; return true;
    case DlpackStream::PerThread: *stream = cudaStreamPerThread; return true;
    case DlpackStream::Handle:
      *stream = reinterpret_cast<cudaStream_t>(static_cast<uintptr_t>(*stream_or_null));
      return true;
  }
  return false;
}

}  // namespace bwl::cuda
