#pragma once
// The CUDA backend as a loader worker uses it: batches into new device tensors, each marked
// ready on this backend's stream after its last kernel.
#include <memory>

#include "cuda_batch_processor.hpp"
#include "device_tensor.hpp"
#include "engine/batch_backend.hpp"

namespace bwl::cuda {

class CudaBackend : public engine::BatchBackend {
 public:
  CudaBackend(int device, size_t read_threads, size_t staging_bytes = 0, size_t inflate_cap = kDefaultInflateCap)
      : processor_(device, read_threads, staging_bytes, inflate_cap) {}

  std::shared_ptr<Tensor> load(const engine::Collection& collection, const engine::BatchRequest& request) override {
    return load_device(collection, request);
  }

  std::shared_ptr<DeviceTensor> load_device(const engine::Collection& collection, const engine::BatchRequest& request) {
    const engine::BatchPlan plan = engine::plan_batch(collection, request);
    // Allocated on the processor's stream (stream-ordered), so run() may use it at once.
    auto values = std::make_shared<DeviceTensor>(processor_.owned_stream(), plan.output_shape(), request.dtype);
    processor_.run(collection, request, plan, values->data());
    values->record_ready(processor_.stream());
    return values;
  }

  int device() const { return processor_.device(); }
  CudaBatchProcessor& processor() { return processor_; }

 private:
  CudaBatchProcessor processor_;
};

}  // namespace bwl::cuda
