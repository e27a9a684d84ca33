#include "stream_memory.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "cuda_check.hpp"

namespace bwl::cuda {

cudaMemPool_t device_pool(int device) {
  static std::mutex mutex;
  static std::map<int, cudaMemPool_t> pools;  // never destroyed: memory outlives every user
  std::lock_guard<std::mutex> lock(mutex);
  auto found = pools.find(device);
  if (found != pools.end()) return found->second;
  int supported = 0;
  check(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device),
        "cudaDeviceGetAttribute(cudaDevAttrMemoryPoolsSupported)");
  if (!supported) {
    throw DeviceError("CUDA device " + std::to_string(device) +
                      " has no stream-ordered memory pools (cudaMallocAsync), which bigwig-loader needs");
  }
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t pool = nullptr;
  check(cudaMemPoolCreate(&pool, &props), "cudaMemPoolCreate");
  uint64_t keep_everything = UINT64_MAX;
  check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything),
        "cudaMemPoolSetAttribute(cudaMemPoolAttrReleaseThreshold)");
  pools.emplace(device, pool);
  return pool;
}

void* allocate_async(size_t bytes, int device, cudaStream_t stream) {
  cudaMemPool_t pool = device_pool(device);
  void* memory = nullptr;
  const cudaError_t status = cudaMallocFromPoolAsync(&memory, bytes > 0 ? bytes : 1, pool, stream);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw DeviceError("CUDA device " + std::to_string(device) + ": cannot allocate " + std::to_string(bytes) +
                      " bytes (cudaMallocFromPoolAsync: " + cudaGetErrorString(status) + ")");
  }
  return memory;
}

void free_async(void* memory, cudaStream_t stream) noexcept {
  if (memory != nullptr) discard(cudaFreeAsync(memory, stream));
}

OwnedStream::OwnedStream(int device) : device_(device) {
  DeviceGuard guard(device);
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

OwnedStream::~OwnedStream() {
  DeviceGuard guard(device_, std::nothrow);
  if (!guard.ok()) return;
  // Destroying a stream with queued work is allowed: its resources go once the work is done.
  discard(cudaStreamDestroy(stream_));
}

std::shared_ptr<OwnedStream> upload_stream(int device) {
  static std::mutex mutex;
  static auto* streams = new std::map<int, std::shared_ptr<OwnedStream>>();  // never destroyed, on purpose
  std::lock_guard<std::mutex> lock(mutex);
  auto& stream = (*streams)[device];
  if (!stream) stream = std::make_shared<OwnedStream>(device);
  return stream;
}

}  // namespace bwl::cuda
