#pragma once
// The one way a batch processor is made, for get_batch (make_processor) and for the loader's
// workers (_core.StreamedDataloader) alike, from one ProcessorSettings: engine::kCpuDevice (-1) is the CPU,
// N >= 0 is CUDA device N. Builds without CUDA raise DeviceError for N >= 0, so the layers above
// never test for the build themselves. Python resolves `device=` to the ordinal
// (bigwig_loader/device.py, the one reading of it). It names both backends, so it sits in the top
// layer, beside the only other code that includes cuda/.
#include <cstddef>
#include <memory>

#include "engine/batch_processor.hpp"

namespace bwl::bindings {

struct ProcessorSettings {
  int device = engine::kCpuDevice;
  // Host threads per batch (CPU: the fill's pool; CUDA: the block reads; 0: the CPUs this
  // process may use).
  size_t threads = 0;
  // A CUDA processor's own: bytes of pinned staging allocated up front, and bytes of device
  // scratch for inflated blocks (0: its default).
  size_t staging_bytes = 0;
  size_t inflate_cap = 0;
};

std::unique_ptr<engine::BatchProcessor> make_processor(const ProcessorSettings& settings);

}  // namespace bwl::bindings
