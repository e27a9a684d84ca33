#pragma once
// The CUDA implementation of engine::BatchProcessor: the batch pipeline with fetch on host
// threads and inflate, decode and fill on one device, on this processor's own stream.
//
//   host:   plan (engine) -> stored bytes of the planned blocks read into the MemoryBank
//           (pinned), the runs of blocks the collection's host cache holds copied beside them,
//           with the flat plan arrays -> one host-to-device copy. Hits are not inflated or
//           decoded on the device and take no inflate arena; misses are not inserted into the
//           cache (the device keeps only the runs the batch needs, and copying every run back
//           would cost a transfer and a sync): the CPU backend and preload() fill it.
//   per chunk of blocks (stages/inflate_chunks.hpp; one chunk unless the batch's inflate
//   arena would pass the cap):
//     device: inflate (one thread per block) -> count kept runs
//     host:   learns the chunk's counts and statuses (a synchronization: the run arena's size
//             and any error depend on them), throws for a corrupt block, scans offsets
//     device: write the chunk's runs (before the next chunk reuses the arena)
//   device: prefill (window 1) or zero sums -> fill (one thread per column)
//
// Device scratch: the inflate arena is bounded by `inflate_cap` bytes per processor (one per
// loader worker); kept runs, sums and the staged bytes are sized by the batch. All device
// memory is stream-ordered (stream_memory.hpp): no call waits for the whole device.
//
// load() returns once the last kernel is queued; a new tensor records that it is ready.
// Thread contract: load() may be called from several threads; calls take turns (a loader worker
// owns its own processor, so its calls never wait).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/thread_pool.hpp"
#include "device_memory.hpp"
#include "device_tensor.hpp"
#include "engine/batch_processor.hpp"
#include "engine/device_batch.hpp"
#include "memory_bank.hpp"
#include "stage_clock.hpp"
#include "stages/inflate_chunks.hpp"
#include "stages/device_pipeline.hpp"
#include "stream_memory.hpp"

namespace bwl::cuda {

// The default cap of a processor's inflate arena: 256 MiB, about 8,000 blocks of bigWig's
// usual 32 KiB uncompressBufSize per chunk (an Enformer-size batch of 64 windows x 64 tracks
// plans tens of thousands, several GB uncapped).
constexpr size_t kDefaultInflateCap = size_t{256} << 20;

class CudaBatchProcessor : public engine::BatchProcessor {
 public:
  // `device`: a CUDA device ordinal (DeviceError if there is no such device); `read_threads`
  // host threads read blocks (0: the CPUs this process may use); `inflate_cap`: the inflate
  // arena's cap in bytes (a block larger than the cap is inflated alone); `staging_bytes` of
  // pinned host and device staging are allocated up front (0: on the first batch; it grows as
  // batches need).
  CudaBatchProcessor(int device, size_t read_threads, size_t staging_bytes = 0,
                     size_t inflate_cap = kDefaultInflateCap);
  ~CudaBatchProcessor() override;
  CudaBatchProcessor(const CudaBatchProcessor&) = delete;
  CudaBatchProcessor& operator=(const CudaBatchProcessor&) = delete;

  // load()'s `out` is device memory on this processor's device, usable on stream() (allocated
  // there or on a stream it waited for); it is written once stream() reaches the point where
  // load() returns. Its new tensors are DeviceTensors, the values allocated on stream()
  // (stream-ordered); ready on it (DLPack consumers wait for them).

  int device() const override { return device_; }
  size_t n_threads() const override { return pool_.size(); }
  cudaStream_t stream() const { return stream_->get(); }
  const std::shared_ptr<OwnedStream>& owned_stream() const { return stream_; }
  size_t inflate_cap() const { return inflate_cap_; }

  // Stage times (stage_clock.hpp): off by default; turning it on or off resets the sums.
  void time_stages(bool on);
  StageTimes stage_times();

 protected:
  // `out` is device memory on this processor's device, plan.output_shape() of request.dtype,
  // usable on stream().
  void run(const engine::Collection& collection, const engine::BatchRequest& request, const engine::BatchPlan& plan,
           void* out) override;
  std::shared_ptr<Tensor> fill_new_values(const engine::Collection& collection, const engine::BatchRequest& request,
                                          const engine::BatchPlan& plan) override;
  // The transforms queue after the values are ready and mark them ready again after.
  void smooth(Tensor& values, int64_t width) override;
  void flip(Tensor& values, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) override;
  std::shared_ptr<Tensor> place_sequences(std::shared_ptr<HostTensor> sequences) override;

 private:
  // run()'s stages, in order, on `stream` (the caller holds run_mutex_ and the device):
  // fetch the planned blocks (hits: their runs) and the plan's flat arrays into the bank and
  // copy them up in one go; the view of every array but the inflate arena, runs, output and
  // window scratch.
  stages::DeviceBatchView stage(const engine::Collection& collection, const engine::BatchRequest& request,
                                const engine::BatchPlan& plan, const engine::DeviceBatchLayout& layout,
                                const std::vector<engine::CachedBlock>& hits, cudaStream_t stream);
  // Per chunk: inflate, count kept runs, learn the counts (the chunk's synchronization; throws
  // for a corrupt block), write the runs. Sets v.runs.
  void decode_chunks(const engine::Collection& collection, const engine::BatchPlan& plan,
                     const std::vector<stages::BlockChunk>& chunks, stages::DeviceBatchView& v, cudaStream_t stream);
  // Prefill (window 1) or zeroed sums, then one thread per output column; then the columns'
  // overlap flags copied back and checked (throws for runs that overlap across blocks).
  void fill(const engine::Collection& collection, const engine::BatchRequest& request, const engine::BatchPlan& plan,
            stages::DeviceBatchView& v, cudaStream_t stream);

  std::mutex run_mutex_;
  int device_;
  size_t inflate_cap_;
  // Declared first, destroyed last: the buffers below free their memory on it.
  std::shared_ptr<OwnedStream> stream_;
  cudaEvent_t offsets_uploaded_ = nullptr;  // the pinned run offsets may be rewritten after this
  ThreadPool pool_;
  MemoryBank bank_;
  PinnedBuffer outcomes_host_;
  PinnedBuffer offsets_host_;
  PinnedBuffer overlaps_host_;
  DeviceBuffer inflated_;
  DeviceBuffer outcomes_;
  DeviceBuffer offsets_;
  DeviceBuffer runs_;
  DeviceBuffer sums_;
  DeviceBuffer covered_;
  DeviceBuffer overlaps_;
  StageClock clock_;
};

}  // namespace bwl::cuda
