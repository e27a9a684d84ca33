#pragma once
// The one place that turns a device ordinal into a backend: -1 is the CPU, N >= 0 is CUDA
// device N. Builds without CUDA raise DeviceError for N >= 0, so the layers above never test
// for the build themselves.
#include <memory>

#include "engine/batch_backend.hpp"

namespace bwl::bindings {

constexpr int kCpuDevice = -1;

// `threads`: host threads per batch (CPU: the fill's pool; CUDA: the block reads).
std::unique_ptr<engine::BatchBackend> make_backend(int device, size_t threads);

}  // namespace bwl::bindings
