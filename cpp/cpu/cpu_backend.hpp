#pragma once
// The CPU backend as a loader worker uses it: batches into new host tensors.
#include <memory>

#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_backend.hpp"

namespace bwl::cpu {

class CpuBackend : public engine::BatchBackend {
 public:
  // `threads` host threads for each batch (1: the calling thread only).
  explicit CpuBackend(size_t threads) : processor_(threads) {}

  std::shared_ptr<Tensor> load(const engine::Collection& collection, const engine::BatchRequest& request) override {
    const engine::BatchPlan plan = engine::plan_batch(collection, request);
    auto values = std::make_shared<HostTensor>(plan.output_shape(), request.dtype);
    processor_.run(collection, request, plan, values->data());
    return values;
  }

 private:
  CpuBatchProcessor processor_;
};

}  // namespace bwl::cpu
