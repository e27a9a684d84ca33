#pragma once
// What one loader worker owns: its own backend BatchProcessor and scratch (and, with the CUDA
// backend, its own stream). Used by one thread at a time.
#include <memory>

#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "tensor/tensor.hpp"

namespace bwl::loader {

class WorkerContext {
 public:
  // `threads` host threads for this worker's batches (1: the worker's own thread only).
  explicit WorkerContext(size_t threads) : processor_(threads) {}

  // Plans and runs one batch into a new tensor; throws what planning or reading throws.
  std::shared_ptr<HostTensor> load(const engine::Collection& collection, const engine::BatchRequest& request) {
    const engine::BatchPlan plan = engine::plan_batch(collection, request);
    auto values = std::make_shared<HostTensor>(plan.output_shape(), request.dtype);
    processor_.run(collection, request, plan, values->data());
    return values;
  }

 private:
  cpu::CpuBatchProcessor processor_;
};

}  // namespace bwl::loader
