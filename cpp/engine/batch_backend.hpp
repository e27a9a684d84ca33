#pragma once
// A backend as a loader worker uses it: plan and run one batch into a new tensor in the
// backend's memory (host for the CPU backend, device for the CUDA backend). The loader and the
// bindings choose a backend by device; nothing below them names one.
#include <memory>

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "tensor/tensor.hpp"

namespace bwl::engine {

class BatchBackend {
 public:
  virtual ~BatchBackend() = default;
  // Throws what planning and reading throw. Called by one thread at a time.
  virtual std::shared_ptr<Tensor> load(const Collection& collection, const BatchRequest& request) = 0;
};

}  // namespace bwl::engine
