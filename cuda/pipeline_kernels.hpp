#pragma once
// Launchers of the device pipeline's kernels: each runs one per-item body of
// stages/device_pipeline.hpp, one thread per item, on the caller's stream. They only queue work;
// a launch failure throws DeviceError.
#include <cuda_runtime.h>

#include <cstdint>

#include "stages/device_pipeline.hpp"

namespace bwl::cuda {

// The inflate kernel keeps its Huffman tables in per-thread local memory (about 4 KiB of stack,
// over CUDA's 1 KiB default): raises the current device's stack limit to what it needs.
void reserve_kernel_stack();

void launch_inflate_blocks(const stages::DeviceBatchView& view, cudaStream_t stream);
void launch_count_runs(const stages::DeviceBatchView& view, cudaStream_t stream);
void launch_write_runs(const stages::DeviceBatchView& view, cudaStream_t stream);
void launch_prefill(const stages::DeviceBatchView& view, uint64_t elements, cudaStream_t stream);
void launch_fill_columns(const stages::DeviceBatchView& view, cudaStream_t stream);

}  // namespace bwl::cuda
