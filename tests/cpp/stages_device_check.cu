// Built (never run) in the C++ test build when nvcc is present: proves that the stages the
// CPU tests exercise compile for the device, so the CUDA kernels can be thin launchers.
#include "stages/fill.hpp"
#include "stages/section_decode.hpp"

namespace {

__global__ void decode_and_fill_each_block(const uint8_t* const* blocks, const uint32_t* sizes,
                                           bwl::stages::Run* const* runs, const uint32_t* capacities,
                                           bwl::stages::DecodeResult* results, uint32_t chrom_id, uint32_t start,
                                           uint32_t end, float* out) {
  const unsigned b = blockIdx.x;
  if (threadIdx.x != 0) return;
  results[b] = bwl::stages::decode_block(blocks[b], sizes[b], runs[b], capacities[b]);
  bwl::stages::fill_bases(runs[b], results[b].runs, chrom_id, start, end, out);
}

}  // namespace

// Taking the kernel's address forces its instantiation for every target architecture.
void* bwl_stages_device_check_kernel() { return reinterpret_cast<void*>(&decode_and_fill_each_block); }
