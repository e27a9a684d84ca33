// The CUDA backend's inflate kernel alone against nvCOMP's batched Deflate, on the same blocks
// (issue 10). Blocks come from benchmarks/dump_blocks.py: zlib streams as bigWig stores them;
// nvCOMP gets the raw deflate inside (after the 2-byte zlib header, before the 4-byte Adler-32),
// each copied to the alignment nvCOMP asks for. Both write every block to the same output
// layout; outputs are compared byte for byte and sizes checked against the survey's.
//
//   nvcc -O3 -std=c++17 --fmad=false -arch=sm_90 -I cpp benchmarks/inflate_vs_nvcomp.cu -o inflate_vs_nvcomp \
//        [-DBWL_HAVE_NVCOMP -I NVCOMP/include -L NVCOMP/lib -lnvcomp -Xlinker -rpath=NVCOMP/lib]
//   ./inflate_vs_nvcomp blocks.bin blocks.idx [repeats]
//
// Without BWL_HAVE_NVCOMP only the bigwig-loader kernel is timed (scripts/gpu_check.sh reports
// the nvCOMP side as not run). Prints one line per contender: blocks, inflated MB, ms, GB/s.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "stages/portable_inflate.hpp"

#ifdef BWL_HAVE_NVCOMP
#include <nvcomp/deflate.h>
#endif

namespace {

#define CHECK(call)                                                                              \
  do {                                                                                           \
    cudaError_t e_ = (call);                                                                     \
    if (e_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(2);                                                                              \
    }                                                                                            \
  } while (0)

struct Block {
  uint64_t offset, stored, inflated;
};

__global__ void inflate_kernel(const uint8_t* in, const uint64_t* in_off, const uint32_t* in_size, uint8_t* out,
                               const uint64_t* out_off, uint32_t capacity, uint32_t* written, uint32_t n) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  bwl::stages::InflateTables tables;  // per-thread local memory, as in cuda/pipeline_kernels.cu
  const bwl::stages::InflateResult r =
      bwl::stages::inflate_zlib_portable(in + in_off[i], in_size[i], out + out_off[i], capacity, tables);
  written[i] = r.status == bwl::stages::InflateStatus::Ok ? r.written : 0xFFFFFFFFu;
}

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(2);
  }
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

template <typename T>
T* upload(const std::vector<T>& host) {
  T* device = nullptr;
  CHECK(cudaMalloc(&device, host.size() * sizeof(T) + 1));
  CHECK(cudaMemcpy(device, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return device;
}

void report(const char* name, size_t blocks, uint64_t bytes, float ms) {
  std::printf("%-28s blocks %8zu  inflated %9.1f MB  %9.3f ms  %8.2f GB/s\n", name, blocks, bytes / 1e6, ms,
              bytes / 1e6 / ms);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s blocks.bin blocks.idx [repeats]\n", argv[0]);
    return 2;
  }
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 10;
  const std::vector<uint8_t> data = read_file(argv[1]);
  const std::vector<uint8_t> index_bytes = read_file(argv[2]);
  std::vector<Block> blocks(index_bytes.size() / sizeof(Block));
  std::memcpy(blocks.data(), index_bytes.data(), blocks.size() * sizeof(Block));
  const uint32_t n = static_cast<uint32_t>(blocks.size());
  uint64_t max_inflated = 0, total_inflated = 0;
  for (const Block& b : blocks) {
    if (b.offset + b.stored > data.size() || b.stored < 7) {
      std::fprintf(stderr, "bad index entry\n");
      return 2;
    }
    max_inflated = b.inflated > max_inflated ? b.inflated : max_inflated;
    total_inflated += b.inflated;
  }
  const uint32_t capacity = static_cast<uint32_t>(max_inflated);
  std::vector<uint64_t> in_off(n), out_off(n);
  std::vector<uint32_t> in_size(n);
  for (uint32_t i = 0; i < n; ++i) {
    in_off[i] = blocks[i].offset;
    in_size[i] = static_cast<uint32_t>(blocks[i].stored);
    out_off[i] = uint64_t{i} * capacity;
  }
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %u blocks, %.1f MB stored, %.1f MB inflated, %d repeats (median-free: mean of repeats)\n",
              prop.name, n, data.size() / 1e6, total_inflated / 1e6, repeats);

  // The inflate kernel keeps its Huffman tables on the stack: raise the limit as the backend does.
  cudaFuncAttributes attributes{};
  CHECK(cudaFuncGetAttributes(&attributes, inflate_kernel));
  CHECK(cudaDeviceSetLimit(cudaLimitStackSize, attributes.localSizeBytes + 1024));

  uint8_t* d_in = upload(data);
  uint64_t* d_in_off = upload(in_off);
  uint32_t* d_in_size = upload(in_size);
  uint64_t* d_out_off = upload(out_off);
  uint8_t* d_out = nullptr;
  uint32_t* d_written = nullptr;
  CHECK(cudaMalloc(&d_out, uint64_t{n} * capacity + 1));
  CHECK(cudaMalloc(&d_written, n * sizeof(uint32_t) + 1));
  cudaEvent_t t0, t1;
  CHECK(cudaEventCreate(&t0));
  CHECK(cudaEventCreate(&t1));

  auto run_ours = [&] {
    inflate_kernel<<<(n + 127) / 128, 128>>>(d_in, d_in_off, d_in_size, d_out, d_out_off, capacity, d_written, n);
    CHECK(cudaGetLastError());
  };
  run_ours();  // warm-up
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaEventRecord(t0));
  for (int r = 0; r < repeats; ++r) run_ours();
  CHECK(cudaEventRecord(t1));
  CHECK(cudaEventSynchronize(t1));
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, t0, t1));
  std::vector<uint32_t> written(n);
  CHECK(cudaMemcpy(written.data(), d_written, n * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  int failures = 0;
  for (uint32_t i = 0; i < n; ++i) failures += written[i] != blocks[i].inflated;
  report("bigwig-loader inflate kernel", n, total_inflated, ms / repeats);
  std::printf("bigwig-loader: %d blocks with a wrong size or status\n", failures);
  std::vector<uint8_t> ours(uint64_t{n} * capacity);
  CHECK(cudaMemcpy(ours.data(), d_out, ours.size(), cudaMemcpyDeviceToHost));

#ifdef BWL_HAVE_NVCOMP
  const nvcompBatchedDeflateDecompressOpts_t opts = nvcompBatchedDeflateDecompressDefaultOpts;
  nvcompAlignmentRequirements_t align{};
  if (nvcompBatchedDeflateDecompressGetRequiredAlignments(opts, &align) != nvcompSuccess) {
    std::fprintf(stderr, "nvcomp: alignments query failed\n");
    return 3;
  }
  auto round_up = [](uint64_t x, uint64_t a) { return a > 1 ? (x + a - 1) / a * a : x; };
  // Raw deflate of each block at nvCOMP's input alignment; outputs at its output alignment.
  std::vector<uint8_t> raw;
  std::vector<uint64_t> raw_off(n);
  std::vector<size_t> raw_size(n), out_capacity(n, capacity);
  for (uint32_t i = 0; i < n; ++i) {
    raw_off[i] = round_up(raw.size(), align.input);
    raw_size[i] = blocks[i].stored - 6;
    raw.resize(raw_off[i]);
    raw.insert(raw.end(), data.begin() + blocks[i].offset + 2, data.begin() + blocks[i].offset + 2 + raw_size[i]);
  }
  const uint64_t out_stride = round_up(capacity, align.output);
  uint8_t* d_raw = upload(raw);
  uint8_t* d_nv_out = nullptr;
  CHECK(cudaMalloc(&d_nv_out, uint64_t{n} * out_stride + 1));
  std::vector<const void*> in_ptrs(n);
  std::vector<void*> out_ptrs(n);
  for (uint32_t i = 0; i < n; ++i) {
    in_ptrs[i] = d_raw + raw_off[i];
    out_ptrs[i] = d_nv_out + uint64_t{i} * out_stride;
  }
  const void** d_in_ptrs = upload(in_ptrs);
  void** d_out_ptrs = upload(out_ptrs);
  size_t* d_raw_size = upload(raw_size);
  size_t* d_out_capacity = upload(out_capacity);
  size_t* d_actual = nullptr;
  nvcompStatus_t* d_status = nullptr;
  CHECK(cudaMalloc(&d_actual, n * sizeof(size_t)));
  CHECK(cudaMalloc(&d_status, n * sizeof(nvcompStatus_t)));
  size_t temp_bytes = 0;
  if (nvcompBatchedDeflateDecompressGetTempSize(n, capacity, opts, &temp_bytes, uint64_t{n} * capacity, nullptr) !=
      nvcompSuccess) {
    std::fprintf(stderr, "nvcomp: temp size query failed\n");
    return 3;
  }
  void* d_temp = nullptr;
  CHECK(cudaMalloc(&d_temp, temp_bytes + 1));
  auto run_nvcomp = [&] {
    const nvcompStatus_t s = nvcompBatchedDeflateDecompressAsync(
        d_in_ptrs, d_raw_size, d_out_capacity, d_actual, n, d_temp, temp_bytes, d_out_ptrs, opts, d_status, nullptr);
    if (s != nvcompSuccess) {
      std::fprintf(stderr, "nvcomp: decompress failed to launch (%d)\n", static_cast<int>(s));
      std::exit(3);
    }
  };
  run_nvcomp();
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaEventRecord(t0));
  for (int r = 0; r < repeats; ++r) run_nvcomp();
  CHECK(cudaEventRecord(t1));
  CHECK(cudaEventSynchronize(t1));
  CHECK(cudaEventElapsedTime(&ms, t0, t1));
  std::vector<size_t> actual(n);
  std::vector<nvcompStatus_t> status(n);
  CHECK(cudaMemcpy(actual.data(), d_actual, n * sizeof(size_t), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(status.data(), d_status, n * sizeof(nvcompStatus_t), cudaMemcpyDeviceToHost));
  std::vector<uint8_t> theirs(uint64_t{n} * out_stride);
  CHECK(cudaMemcpy(theirs.data(), d_nv_out, theirs.size(), cudaMemcpyDeviceToHost));
  int nv_failures = 0, differ = 0;
  for (uint32_t i = 0; i < n; ++i) {
    nv_failures += status[i] != nvcompSuccess || actual[i] != blocks[i].inflated;
    differ += std::memcmp(ours.data() + uint64_t{i} * capacity, theirs.data() + uint64_t{i} * out_stride,
                          blocks[i].inflated) != 0;
  }
  report("nvCOMP batched Deflate", n, total_inflated, ms / repeats);
  std::printf("nvCOMP: %d blocks with a wrong size or status; %d blocks differ from bigwig-loader's\n", nv_failures,
              differ);
  std::printf("ratio: bigwig-loader kernel time / nvCOMP time = see the two lines above\n");
  return failures || nv_failures || differ ? 1 : 0;
#else
  std::printf("nvCOMP: not built (compile with -DBWL_HAVE_NVCOMP against the nvidia-libnvcomp-cu13 wheel)\n");
  return failures ? 1 : 0;
#endif
}
