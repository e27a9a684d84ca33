#pragma once
// The CUDA backend: the batch pipeline with fetch on host threads and inflate, decode and fill
// on one device, on this processor's own stream.
//
//   host:   plan (engine) -> stored bytes of the planned blocks read into the MemoryBank
//           (pinned), with the flat plan arrays -> one host-to-device copy
//   device: inflate (one thread per block) -> count kept runs
//   host:   learns the counts and statuses (the batch's one synchronization: the run arena's
//           size and any error depend on them), throws for a corrupt block, scans offsets
//   device: write runs -> prefill (window 1) or zero sums -> fill (one thread per column)
//
// run() returns once the last kernel is queued; the caller records when `out` is ready.
// Thread contract: run() may be called from several threads; calls take turns (a loader worker
// owns its own processor, so its calls never wait).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "common/thread_pool.hpp"
#include "device_memory.hpp"
#include "engine/batch_processor.hpp"
#include "memory_bank.hpp"
#include "stages/staged_batch.hpp"

namespace bwl::cuda {

class CudaBatchProcessor : public engine::BatchProcessor {
 public:
  // `device`: a CUDA device ordinal (DeviceError if there is no such device); `read_threads`
  // host threads read blocks (0: the CPUs this process may use); `staging_bytes` of pinned host
  // and device staging are allocated up front (0: on the first batch; it grows as batches need).
  CudaBatchProcessor(int device, size_t read_threads, size_t staging_bytes = 0);
  ~CudaBatchProcessor() override;
  CudaBatchProcessor(const CudaBatchProcessor&) = delete;
  CudaBatchProcessor& operator=(const CudaBatchProcessor&) = delete;

  // `out` is device memory on this processor's device, plan.output_shape() of request.dtype.
  void run(const engine::Collection& collection, const engine::BatchRequest& request, const engine::BatchPlan& plan,
           void* out) override;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }

 private:
  std::mutex run_mutex_;
  int device_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t offsets_uploaded_ = nullptr;  // the pinned run offsets may be rewritten after this
  ThreadPool pool_;
  MemoryBank bank_;
  PinnedBuffer outcomes_host_;
  PinnedBuffer offsets_host_;
  DeviceBuffer inflated_;
  DeviceBuffer outcomes_;
  DeviceBuffer offsets_;
  DeviceBuffer runs_;
  DeviceBuffer sums_;
  DeviceBuffer covered_;
};

}  // namespace bwl::cuda
