#pragma once
// The one interface of the batch path: a processor plans a BatchRequest and runs it into memory
// of its own kind (host memory for the CPU processor, device memory for the CUDA processor).
// get_batch holds one per device; each loader WorkerContext owns one. The engine never names an
// implementation: cpu/ and cuda/ implement it, and bindings/processor_factory makes one from a
// device ordinal.
#include <cstddef>
#include <memory>

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "tensor/tensor.hpp"

namespace bwl::engine {

// The device ordinal of the host: CUDA devices are 0, 1, ...
constexpr int kCpuDevice = -1;

class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;

  // Plans `request` and writes its batch to `out`: C-contiguous, request.output_shape() of
  // request.dtype, in this processor's memory. The CPU processor returns once `out` is written;
  // the CUDA processor once the last kernel is queued on its stream (the caller orders any use
  // of `out` after that stream). Throws InvalidArgument for a request that does not fit the
  // collection and FormatError for a block that does not inflate or decode, naming the file
  // and the block's offset.
  virtual void load(const Collection& collection, const BatchRequest& request, void* out) = 0;

  // The same into a new tensor in this processor's memory, ready for any consumer (a CUDA
  // tensor carries the event its consumers wait on).
  virtual std::shared_ptr<Tensor> load(const Collection& collection, const BatchRequest& request) = 0;

  // kCpuDevice, or the CUDA device whose memory this processor writes.
  virtual int device() const = 0;
  // Host threads one load() uses (CPU: the fill's pool; CUDA: the block reads).
  virtual size_t n_threads() const = 0;

  // Thread contract: load() may be called from several threads; calls on one processor take
  // turns (the parallelism is inside a call).
};

}  // namespace bwl::engine
