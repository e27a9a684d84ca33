#pragma once
// The one interface of the batch path: a processor plans a BatchRequest and runs it into memory
// of its own kind (host memory for the CPU processor, device memory for the CUDA processor).
// get_batch holds one per device; each loader worker owns one. The engine never names an
// implementation: cpu/ and cuda/ implement it, and python_bindings/processor_factory makes one from a
// device ordinal.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

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

// The batch path written once for both backends (engine/batch_processor.cpp): check, plan, the
// backend's fill (the protected hooks below), then the finishing step (smooth, flip, one-hot).
// A backend implements only what touches its own memory.
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
  void load(const Collection& collection, const BatchRequest& request, void* out);

  // The whole batch into new tensors in this processor's memory, ready for any consumer (a CUDA
  // tensor carries the event its consumers wait on): the values, smoothed and flipped as the
  // request asks, and the one-hot sequences of its bases.
  LoadedBatch load(const Collection& collection, const BatchRequest& request);

  // kCpuDevice, or the CUDA device whose memory this processor writes.
  virtual int device() const = 0;
  // Host threads one load() uses (CPU: the fill's pool; CUDA: the block reads).
  virtual size_t n_threads() const = 0;

  // Thread contract: load() may be called from several threads; calls on one processor take
  // turns (the parallelism is inside a call).

 protected:
  // The plan of `request` (plan_batch); the CPU processor plans large batches on its pool.
  virtual BatchPlan plan(const Collection& collection, const BatchRequest& request) {
    return plan_batch(collection, request);
  }
  // The backend's fill of `plan` (of `request`) into `out`, as load(..., out) describes; takes
  // the processor's turn.
  virtual void run(const Collection& collection, const BatchRequest& request, const BatchPlan& plan, void* out) = 0;
  // A new values tensor in this processor's memory, filled by run(), ready for the hooks below.
  virtual std::shared_ptr<Tensor> fill_new_values(const Collection& collection, const BatchRequest& request,
                                                  const BatchPlan& plan) = 0;
  // The finishing step's device hooks, in place on a tensor fill_new_values made: the moving
  // average of `width` along the length axis (1: none), and the flip of the flagged rows.
  virtual void smooth(Tensor& values, int64_t width) = 0;
  virtual void flip(Tensor& values, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) = 0;
  // The one-hot sequences, made on the host, as a tensor in this processor's memory.
  virtual std::shared_ptr<Tensor> place_sequences(std::shared_ptr<HostTensor> sequences) = 0;
};

}  // namespace bwl::engine
