#pragma once
// A loader worker: owns one batch processor, with that processor's scratch (and, for the CUDA
// processor, its own stream and device buffers). Used by one thread at a time.
#include <memory>

#include "engine/batch_processor.hpp"

namespace bwl::loader {

class WorkerContext {
 public:
  explicit WorkerContext(std::unique_ptr<engine::BatchProcessor> processor) : processor_(std::move(processor)) {}

  // Loads one whole batch (values, augmentations, sequences) into new tensors in the
  // processor's memory; throws what planning or reading throws.
  engine::LoadedBatch load(const engine::Collection& collection, const engine::BatchRequest& request) {
    return processor_->load(collection, request);
  }

 private:
  std::unique_ptr<engine::BatchProcessor> processor_;
};

}  // namespace bwl::loader
