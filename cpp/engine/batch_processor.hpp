#pragma once
// The one interface of the batch path: a processor plans a BatchRequest and runs it into memory
// of its own kind (host memory for the CPU processor, device memory for the CUDA processor).
// get_batch holds one per device; each loader worker owns one. The engine never names an
// implementation: cpu/ and cuda/ implement it, and python_bindings/processor_factory makes one from a
// device ordinal.
#include <cstddef>
#include <memory>

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "tensor/tensor.hpp"

namespace bwl::engine {

// The device ordinal of the host: CUDA devices are 0, 1, ...
constexpr int kCpuDevice = -1;

// One loaded training batch, in the processor's memory: the values (augmented as the request
// asks) and, when the request has bases, their one-hot sequences (batch, sequence_length, 4).
struct LoadedBatch {
  std::shared_ptr<Tensor> values;
  std::shared_ptr<Tensor> sequences;  // null without bases
};

class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;

  // Plans `request` and writes its batch to `out`: C-contiguous, request.output_shape() of
  // request.dtype, in this processor's memory. The CPU processor returns once `out` is written;
  // the CUDA processor once the last kernel is queued on its stream (the caller orders any use
  // of `out` after that stream). Throws InvalidArgument for a request that does not fit the
  // collection or that has augmentations (they need the tensors of the load below), and
  // FormatError for a block that does not inflate or decode, naming the file and the block's
  // offset.
  virtual void load(const Collection& collection, const BatchRequest& request, void* out) = 0;

  // The whole batch into new tensors in this processor's memory, ready for any consumer (a CUDA
  // tensor carries the event its consumers wait on): the values, smoothed and flipped as the
  // request asks, and the one-hot sequences of its bases.
  virtual LoadedBatch load(const Collection& collection, const BatchRequest& request) = 0;

  // kCpuDevice, or the CUDA device whose memory this processor writes.
  virtual int device() const = 0;
  // Host threads one load() uses (CPU: the fill's pool; CUDA: the block reads).
  virtual size_t n_threads() const = 0;

  // Thread contract: load() may be called from several threads; calls on one processor take
  // turns (the parallelism is inside a call).
};

}  // namespace bwl::engine
