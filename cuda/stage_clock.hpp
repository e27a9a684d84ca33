#pragma once
// Optional stage times of the CUDA processor, from CUDA events (host wall time for the read):
// for benchmarks, off by default. When on, the end of each timed stage is waited for on the
// host, so batches no longer overlap host and device work: measure with it, not through it.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>

#include "cuda_check.hpp"

namespace bwl::cuda {

// Milliseconds summed over the batches run while timing was on.
struct StageTimes {
  double read_ms = 0;     // host: stored bytes read into pinned staging (wall time)
  double copy_ms = 0;     // host-to-device copy of staged bytes and plan arrays
  double inflate_ms = 0;  // inflate kernel, all chunks
  double decode_ms = 0;   // count and write runs kernels, all chunks
  double fill_ms = 0;     // prefill / zeroing and the fill kernel
  uint64_t batches = 0;
};

class StageClock {
 public:
  StageClock() = default;
  ~StageClock() { destroy(); }
  StageClock(const StageClock&) = delete;
  StageClock& operator=(const StageClock&) = delete;

  // Called with the processor's device current.
  void enable(bool on) {
    if (on && begin_ == nullptr) {
      BWL_CUDA_CHECK(cudaEventCreate(&begin_));
      BWL_CUDA_CHECK(cudaEventCreate(&end_));
    }
    if (!on) destroy();
  }
  bool enabled() const { return begin_ != nullptr; }

  void start(cudaStream_t stream) {
    if (enabled()) BWL_CUDA_CHECK(cudaEventRecord(begin_, stream));
  }
  // Adds the time from start() to the work queued on `stream` so far.
  void stop(cudaStream_t stream, double& total_ms) {
    if (!enabled()) return;
    BWL_CUDA_CHECK(cudaEventRecord(end_, stream));
    BWL_CUDA_CHECK(cudaEventSynchronize(end_));
    float ms = 0;
    BWL_CUDA_CHECK(cudaEventElapsedTime(&ms, begin_, end_));
    total_ms += ms;
  }

  StageTimes times;

 private:
  void destroy() {
    if (begin_ != nullptr) discard(cudaEventDestroy(begin_));
    if (end_ != nullptr) discard(cudaEventDestroy(end_));
    begin_ = end_ = nullptr;
  }
  cudaEvent_t begin_ = nullptr;
  cudaEvent_t end_ = nullptr;
};

// Host wall time in milliseconds since `since`.
inline double ms_since(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace bwl::cuda
