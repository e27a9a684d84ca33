#include "cuda_batch_processor.hpp"

#include <cstring>
#include <string>

#include "cuda_check.hpp"
#include "engine/staged_batch.hpp"
#include "staged_kernels.hpp"

namespace bwl::cuda {

CudaBatchProcessor::CudaBatchProcessor(int device, size_t read_threads, size_t staging_bytes)
    : device_(device), pool_(read_threads) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    count = 0;
  }
  if (device < 0 || device >= count) {
    throw DeviceError("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                      " visible)");
  }
  DeviceGuard guard(device_);
  reserve_kernel_stack();
  BWL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  BWL_CUDA_CHECK(cudaEventCreateWithFlags(&offsets_uploaded_, cudaEventDisableTiming));
  if (staging_bytes > 0) bank_.reserve(staging_bytes);
}

CudaBatchProcessor::~CudaBatchProcessor() {
  if (stream_ == nullptr) return;
  cudaSetDevice(device_);
  cudaStreamSynchronize(stream_);
  cudaEventDestroy(offsets_uploaded_);
  cudaStreamDestroy(stream_);
}

void CudaBatchProcessor::run(const engine::Collection& collection, const engine::BatchRequest& request,
                             const engine::BatchPlan& plan, void* out) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  DeviceGuard guard(device_);
  // The previous batch's last host-to-device copy read pinned offsets_host_: wait for it
  // before this batch rewrites host memory (the bank's own copy finished at its sync).
  BWL_CUDA_CHECK(cudaEventSynchronize(offsets_uploaded_));

  const engine::StagedLayout layout = engine::stage_layout(collection, plan);
  const size_t n_blocks = plan.blocks.size();
  const size_t n_columns = plan.batch * plan.n_tracks;
  const uint64_t elements = uint64_t{n_columns} * plan.cells;

  // Host -> device, in one copy: stored bytes and the plan's flat arrays.
  bank_.reset();
  const auto staged = bank_.take<uint8_t>(layout.staged_bytes);
  const auto blocks = bank_.take<stages::StagedBlock>(n_blocks);
  const auto columns = bank_.take<stages::ColumnQuery>(plan.columns.size());
  const auto column_begin = bank_.take<uint32_t>(plan.column_begin.size());
  const auto column_blocks = bank_.take<uint32_t>(plan.column_blocks.size());
  const auto scales = bank_.take<float>(request.scales.size());
  bank_.commit();
  engine::read_staged_bytes(collection, plan, layout, bank_.host(staged), pool_);
  auto copy = [](void* dst, const void* src, size_t bytes) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  };
  copy(bank_.host(blocks), layout.blocks.data(), n_blocks * sizeof(stages::StagedBlock));
  copy(bank_.host(columns), plan.columns.data(), plan.columns.size() * sizeof(stages::ColumnQuery));
  copy(bank_.host(column_begin), plan.column_begin.data(), plan.column_begin.size() * sizeof(uint32_t));
  copy(bank_.host(column_blocks), plan.column_blocks.data(), plan.column_blocks.size() * sizeof(uint32_t));
  copy(bank_.host(scales), request.scales.data(), request.scales.size() * sizeof(float));
  bank_.upload(stream_);

  stages::StagedBatchView v{};
  v.blocks = bank_.device(blocks);
  v.n_blocks = static_cast<uint32_t>(n_blocks);
  v.staged = bank_.device(staged);
  v.inflated = static_cast<uint8_t*>(inflated_.reserve(layout.inflated_bytes > 0 ? layout.inflated_bytes : 1));
  v.outcomes = outcomes_.reserve_as<stages::BlockOutcome>(n_blocks > 0 ? n_blocks : 1);
  v.columns = bank_.device(columns);
  v.column_begin = bank_.device(column_begin);
  v.column_blocks = bank_.device(column_blocks);
  v.scales = bank_.device(scales);
  v.n_columns = static_cast<uint32_t>(n_columns);
  v.n_tracks = static_cast<uint32_t>(plan.n_tracks);
  v.cells = plan.cells;
  v.window_size = request.window_size;
  v.default_value = request.default_value;
  v.bfloat16 = request.dtype == DType::BFloat16;
  v.out = out;

  launch_inflate_blocks(v, stream_);
  launch_count_runs(v, stream_);

  // The batch's one synchronization: the host learns each block's status and kept runs.
  auto* outcomes = outcomes_host_.reserve_as<stages::BlockOutcome>(n_blocks > 0 ? n_blocks : 1);
  if (n_blocks > 0) {
    BWL_CUDA_CHECK(cudaMemcpyAsync(outcomes, v.outcomes, n_blocks * sizeof(stages::BlockOutcome),
                                   cudaMemcpyDeviceToHost, stream_));
  }
  BWL_CUDA_CHECK(cudaStreamSynchronize(stream_));
  engine::check_outcomes(collection, plan, outcomes);

  auto* offsets = offsets_host_.reserve_as<uint64_t>(n_blocks > 0 ? n_blocks : 1);
  const uint64_t total_runs = engine::scan_run_offsets(outcomes, n_blocks, offsets);
  v.run_offsets = offsets_.reserve_as<uint64_t>(n_blocks > 0 ? n_blocks : 1);
  v.runs = runs_.reserve_as<stages::Run>(total_runs > 0 ? total_runs : 1);
  if (n_blocks > 0) {
    BWL_CUDA_CHECK(cudaMemcpyAsync(const_cast<uint64_t*>(v.run_offsets), offsets, n_blocks * sizeof(uint64_t),
                                   cudaMemcpyHostToDevice, stream_));
  }
  BWL_CUDA_CHECK(cudaEventRecord(offsets_uploaded_, stream_));
  launch_write_runs(v, stream_);

  if (request.window_size == 1) {
    launch_prefill(v, elements, stream_);
  } else {
    v.sums = sums_.reserve_as<double>(elements > 0 ? elements : 1);
    v.covered = covered_.reserve_as<uint32_t>(elements > 0 ? elements : 1);
    BWL_CUDA_CHECK(cudaMemsetAsync(v.sums, 0, elements * sizeof(double), stream_));
    BWL_CUDA_CHECK(cudaMemsetAsync(v.covered, 0, elements * sizeof(uint32_t), stream_));
  }
  launch_fill_columns(v, stream_);
}

}  // namespace bwl::cuda
