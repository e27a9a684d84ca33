#include "pipeline_kernels.hpp"

#include "cuda_check.hpp"

namespace bwl::cuda {
namespace {

// Thread-per-item kernels. Items are independent (each block, element or column is written by
// exactly one thread), so there is no synchronization inside a kernel.
constexpr unsigned kThreads = 128;

unsigned blocks_for(uint64_t items) { return static_cast<unsigned>((items + kThreads - 1) / kThreads); }

__global__ void inflate_blocks_kernel(stages::DeviceBatchView view) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= view.n_blocks) return;
  // The two Huffman codes of the block being inflated: per-thread local memory (~2.8 KiB).
  stages::InflateTables tables;
  stages::inflate_staged_block(view, i, tables);
}

__global__ void count_runs_kernel(stages::DeviceBatchView view) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < view.n_blocks) stages::count_block_runs(view, i);
}

__global__ void write_runs_kernel(stages::DeviceBatchView view) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < view.n_blocks) stages::write_block_runs(view, i);
}

__global__ void prefill_kernel(stages::DeviceBatchView view, uint64_t elements) {
  const uint64_t e = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (e < elements) stages::prefill_output(view, e);
}

__global__ void fill_columns_kernel(stages::DeviceBatchView view) {
  const uint32_t c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c < view.n_columns) stages::fill_column(view, c);
}

}  // namespace

void reserve_kernel_stack() {
  cudaFuncAttributes attributes{};
  check(cudaFuncGetAttributes(&attributes, inflate_blocks_kernel), "cudaFuncGetAttributes(inflate_blocks_kernel)");
  size_t limit = 0;
  check(cudaDeviceGetLimit(&limit, cudaLimitStackSize), "cudaDeviceGetLimit(cudaLimitStackSize)");
  const size_t needed = attributes.localSizeBytes + 1024;  // and room for calls the frame does not count
  if (limit < needed) check(cudaDeviceSetLimit(cudaLimitStackSize, needed), "cudaDeviceSetLimit(cudaLimitStackSize)");
}

void launch_inflate_blocks(const stages::DeviceBatchView& view, cudaStream_t stream) {
  if (view.n_blocks == 0) return;
  launch_checked("inflate_blocks_kernel",
                 [&] { inflate_blocks_kernel<<<blocks_for(view.n_blocks), kThreads, 0, stream>>>(view); });
}

void launch_count_runs(const stages::DeviceBatchView& view, cudaStream_t stream) {
  if (view.n_blocks == 0) return;
  launch_checked("count_runs_kernel",
                 [&] { count_runs_kernel<<<blocks_for(view.n_blocks), kThreads, 0, stream>>>(view); });
}

void launch_write_runs(const stages::DeviceBatchView& view, cudaStream_t stream) {
  if (view.n_blocks == 0) return;
  launch_checked("write_runs_kernel",
                 [&] { write_runs_kernel<<<blocks_for(view.n_blocks), kThreads, 0, stream>>>(view); });
}

void launch_prefill(const stages::DeviceBatchView& view, uint64_t elements, cudaStream_t stream) {
  if (elements == 0) return;
  launch_checked("prefill_kernel",
                 [&] { prefill_kernel<<<blocks_for(elements), kThreads, 0, stream>>>(view, elements); });
}

void launch_fill_columns(const stages::DeviceBatchView& view, cudaStream_t stream) {
  if (view.n_columns == 0 || view.cells == 0) return;
  launch_checked("fill_columns_kernel",
                 [&] { fill_columns_kernel<<<blocks_for(view.n_columns), kThreads, 0, stream>>>(view); });
}

}  // namespace bwl::cuda
