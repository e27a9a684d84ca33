#pragma once
// The one place that turns a device ordinal into a batch processor: engine::kCpuDevice (-1) is
// the CPU, N >= 0 is CUDA device N. Builds without CUDA raise DeviceError for N >= 0, so the
// layers above never test for the build themselves. Python resolves `device=` to the ordinal
// (bigwig_loader/device.py, the one reading of it).
#include <cstddef>
#include <memory>

#include "engine/batch_processor.hpp"

namespace bwl::bindings {

// `threads`: host threads per batch (CPU: the fill's pool; CUDA: the block reads; 0: the CPUs
// this process may use). A CUDA processor's own settings: `staging_bytes` of pinned staging
// allocated up front; `inflate_cap` bytes of device scratch for inflated blocks (0: its default).
std::unique_ptr<engine::BatchProcessor> make_processor(int device, size_t threads, size_t staging_bytes = 0,
                                                       size_t inflate_cap = 0);

}  // namespace bwl::bindings
