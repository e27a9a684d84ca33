#pragma once
// What one loader worker owns: its own backend, with that backend's scratch (and, for the CUDA
// backend, its own stream and device buffers). Used by one thread at a time.
#include <memory>

#include "engine/batch_backend.hpp"

namespace bwl::loader {

class WorkerContext {
 public:
  explicit WorkerContext(std::unique_ptr<engine::BatchBackend> backend) : backend_(std::move(backend)) {}

  // Plans and runs one batch into a new tensor; throws what planning or reading throws.
  std::shared_ptr<Tensor> load(const engine::Collection& collection, const engine::BatchRequest& request) {
    return backend_->load(collection, request);
  }

 private:
  std::unique_ptr<engine::BatchBackend> backend_;
};

}  // namespace bwl::loader
