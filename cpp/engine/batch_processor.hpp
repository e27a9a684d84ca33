#pragma once
// The interface the two backends implement: run a planned batch into an output tensor of
// plan.output_shape() and the request's dtype. The engine never names a backend.
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"

namespace bwl::engine {

class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;
  // Fills `out` (C-contiguous, plan.output_shape(), request.dtype). Throws FormatError for a
  // block that does not inflate or decode, naming the file and offset. Implementations state
  // their own thread contract.
  virtual void run(const Collection& collection, const BatchRequest& request, const BatchPlan& plan, void* out) = 0;
};

}  // namespace bwl::engine
