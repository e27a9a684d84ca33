// Built (never run) in the C++ test build when nvcc is present: proves that the stages the
// CPU tests exercise compile for the device, so the CUDA kernels can be thin launchers.
#include "stages/section_decode.hpp"
#include "stages/window_fill.hpp"

namespace {

__global__ void decode_and_fill_each_block(const uint8_t* const* blocks, const uint32_t* sizes,
                                           bwl::stages::Run* const* runs, const uint32_t* capacities,
                                           bwl::stages::DecodeResult* results, uint32_t chrom_id, uint32_t start,
                                           uint32_t end, float* out) {
  const unsigned b = blockIdx.x;
  if (threadIdx.x != 0) return;
  results[b] = bwl::stages::decode_block(blocks[b], sizes[b], runs[b], capacities[b]);
  bwl::stages::fill_single_base_cells(runs[b], results[b].runs, bwl::stages::ColumnQuery{start, chrom_id, start, end},
                                      1.0f, out);
}

__global__ void fill_windows(const bwl::stages::Run* runs, uint32_t n_runs, bwl::stages::ColumnQuery q,
                             uint32_t window_size, double* sums, uint32_t* covered, float* cells, uint16_t* bf16,
                             uint32_t n_cells) {
  if (threadIdx.x != 0) return;
  bwl::stages::fill_single_base_cells(runs, n_runs, q, 1.0f, cells);
  bwl::stages::accumulate_window_cells(runs, n_runs, q, window_size, sums, covered);
  for (uint32_t c = 0; c < n_cells; ++c) {
    bf16[c] = bwl::stages::to_bfloat16(bwl::stages::finalize_window_cell(sums[c], covered[c], window_size, 1.0f, 0.0f));
  }
}

}  // namespace

// Taking the kernel's address forces its instantiation for every target architecture.
void* bwl_stages_device_check_kernels[] = {reinterpret_cast<void*>(&decode_and_fill_each_block),
                                           reinterpret_cast<void*>(&fill_windows)};
