#include "cuda_batch_processor.hpp"

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "device_transforms.hpp"
#include "engine/device_batch.hpp"
#include "stages/inflate_chunks.hpp"
#include "pipeline_kernels.hpp"

namespace bwl::cuda {
namespace {

int checked_device(int device) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    count = 0;
  }
  if (device < 0 || device >= count) {
    throw DeviceError("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                      " visible)");
  }
  return device;
}

}  // namespace

CudaBatchProcessor::CudaBatchProcessor(int device, size_t read_threads, size_t staging_bytes, size_t inflate_cap)
    : device_(checked_device(device)),
      inflate_cap_(inflate_cap > 0 ? inflate_cap : 1),
      stream_(std::make_shared<OwnedStream>(device_)),
      pool_(read_threads) {
  DeviceGuard guard(device_);
  reserve_kernel_stack();
  BWL_CUDA_CHECK(cudaEventCreateWithFlags(&offsets_uploaded_, cudaEventDisableTiming));
  if (staging_bytes > 0) bank_.reserve(staging_bytes, device_, stream_->get());
}

CudaBatchProcessor::~CudaBatchProcessor() {
  DeviceGuard guard(device_, std::nothrow);
  if (!guard.ok()) return;
  // The pinned buffers are freed with the processor: the copies that use them must be done.
  discard(cudaStreamSynchronize(stream_->get()));
  discard(cudaEventDestroy(offsets_uploaded_));
  // Give the device memory back to the driver (reset_gpu() promises it), not only to the
  // pool: release the scratch, let the frees run, trim what no live tensor holds.
  for (DeviceBuffer* b : {&inflated_, &outcomes_, &offsets_, &runs_, &sums_, &covered_, &overlaps_}) b->release();
  bank_.release_device();
  discard(cudaStreamSynchronize(stream_->get()));
  try {  // device_pool() throws where it cannot make the pool: a destructor must not
    discard(cudaMemPoolTrimTo(device_pool(device_), 0));
  } catch (...) {
  }
}

void CudaBatchProcessor::time_stages(bool on) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  DeviceGuard guard(device_);
  clock_.enable(on);
  clock_.times = StageTimes{};
}

StageTimes CudaBatchProcessor::stage_times() {
  std::lock_guard<std::mutex> lock(run_mutex_);
  return clock_.times;
}

void CudaBatchProcessor::run(const engine::Collection& collection, const engine::BatchRequest& request,
                             const engine::BatchPlan& plan, void* out) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  DeviceGuard guard(device_);
  const cudaStream_t stream = stream_->get();
  // The previous batch's last host-to-device copy read pinned offsets_host_: wait for it
  // before this batch rewrites host memory (the bank's own copy finished at its sync).
  BWL_CUDA_CHECK(cudaEventSynchronize(offsets_uploaded_));
  try {
    // Blocks the host cache holds go up as their runs (no device inflate or decode); held until
    // they are copied into the bank.
    const std::vector<engine::CachedBlock> hits = engine::find_cached_blocks(collection, plan);
    const engine::DeviceBatchLayout layout = engine::lay_out_device_batch(collection, plan, hits);
    // The inflate arena holds one chunk of blocks at a time (at most inflate_cap_ bytes).
    const std::vector<stages::BlockChunk> chunks =
        stages::plan_inflate_chunks(layout.blocks.data(), static_cast<uint32_t>(plan.blocks.size()), inflate_cap_);

    stages::DeviceBatchView v = stage(collection, request, plan, layout, hits, stream);
    const uint64_t arena_bytes = stages::largest_chunk_bytes(chunks);
    v.inflated = static_cast<uint8_t*>(inflated_.reserve(arena_bytes > 0 ? arena_bytes : 1, device_, stream));
    v.out = out;
    decode_chunks(collection, plan, chunks, v, stream);
    fill(collection, request, plan, v, stream);
  } catch (...) {
    // A failure part-way (a corrupt block, an allocation, a launch) can leave the staging copy
    // and kernels of this batch queued: let them finish before the next batch rewrites the
    // pinned staging or frees the scratch they use. (Its own error, if any, is the one raised.)
    discard(cudaStreamSynchronize(stream));
    throw;
  }
}

stages::DeviceBatchView CudaBatchProcessor::stage(const engine::Collection& collection,
                                                  const engine::BatchRequest& request, const engine::BatchPlan& plan,
                                                  const engine::DeviceBatchLayout& layout,
                                                  const std::vector<engine::CachedBlock>& hits, cudaStream_t stream) {
  const size_t n_blocks = plan.blocks.size();
  const auto read_began = std::chrono::steady_clock::now();
  bank_.reset();
  const auto staged = bank_.take<uint8_t>(layout.stored_bytes);
  const auto blocks = bank_.take<stages::DeviceBlock>(n_blocks);
  const auto columns = bank_.take<stages::ColumnQuery>(plan.columns.size());
  const auto column_begin = bank_.take<uint32_t>(plan.column_begin.size());
  const auto column_blocks = bank_.take<uint32_t>(plan.column_blocks.size());
  const auto scales = bank_.take<float>(request.scales.size());
  bank_.commit(device_, stream);
  engine::read_stored_bytes(collection, plan, layout, bank_.host(staged), pool_);
  engine::copy_cached_runs(hits, layout, bank_.host(staged));
  auto copy = [](void* dst, const void* src, size_t bytes) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  };
  copy(bank_.host(blocks), layout.blocks.data(), n_blocks * sizeof(stages::DeviceBlock));
  copy(bank_.host(columns), plan.columns.data(), plan.columns.size() * sizeof(stages::ColumnQuery));
  copy(bank_.host(column_begin), plan.column_begin.data(), plan.column_begin.size() * sizeof(uint32_t));
  copy(bank_.host(column_blocks), plan.column_blocks.data(), plan.column_blocks.size() * sizeof(uint32_t));
  copy(bank_.host(scales), request.scales.data(), request.scales.size() * sizeof(float));
  if (clock_.enabled()) clock_.times.read_ms += ms_since(read_began);
  clock_.start(stream);
  bank_.upload(stream);
  clock_.stop(stream, clock_.times.copy_ms);

  stages::DeviceBatchView v{};
  v.blocks = bank_.device(blocks);
  v.n_blocks = static_cast<uint32_t>(n_blocks);
  v.staged = bank_.device(staged);
  v.outcomes = outcomes_.reserve_as<stages::BlockOutcome>(n_blocks > 0 ? n_blocks : 1, device_, stream);
  v.run_offsets = offsets_.reserve_as<uint64_t>(n_blocks > 0 ? n_blocks : 1, device_, stream);
  v.columns = bank_.device(columns);
  v.column_begin = bank_.device(column_begin);
  v.column_blocks = bank_.device(column_blocks);
  v.scales = bank_.device(scales);
  v.n_columns = static_cast<uint32_t>(plan.batch * plan.n_tracks);
  v.n_tracks = static_cast<uint32_t>(plan.n_tracks);
  v.cells = plan.cells;
  v.window_size = request.window_size;
  v.default_value = request.default_value;
  v.dtype = request.dtype;
  return v;
}

void CudaBatchProcessor::decode_chunks(const engine::Collection& collection, const engine::BatchPlan& plan,
                                       const std::vector<stages::BlockChunk>& chunks, stages::DeviceBatchView& v,
                                       cudaStream_t stream) {
  const size_t n_blocks = plan.blocks.size();
  // Host copies of the outcomes, zeroed: blocks of later chunks read as Ok until counted.
  auto* outcomes = outcomes_host_.reserve_as<stages::BlockOutcome>(n_blocks > 0 ? n_blocks : 1);
  std::memset(static_cast<void*>(outcomes), 0, n_blocks * sizeof(stages::BlockOutcome));
  auto* offsets = offsets_host_.reserve_as<uint64_t>(n_blocks > 0 ? n_blocks : 1);
  uint64_t total_runs = 0;
  for (const stages::BlockChunk& chunk : chunks) {
    stages::DeviceBatchView cv = stages::chunk_view(v, chunk);
    clock_.start(stream);
    launch_inflate_blocks(cv, stream);
    clock_.stop(stream, clock_.times.inflate_ms);
    clock_.start(stream);
    launch_count_runs(cv, stream);
    clock_.stop(stream, clock_.times.decode_ms);

    // The chunk's synchronization: the host learns each block's status and kept runs.
    BWL_CUDA_CHECK(cudaMemcpyAsync(outcomes + chunk.first, cv.outcomes, chunk.count * sizeof(stages::BlockOutcome),
                                   cudaMemcpyDeviceToHost, stream));
    // An error here is most likely the chunk's kernels' (a launch's own errors are checked at
    // launch, a kernel's faults surface at the next synchronization): say so.
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after a chunk's inflate and run-count kernels");
    engine::check_outcomes(collection, plan, outcomes);

    const uint64_t runs_before = total_runs;
    total_runs = stages::scan_chunk_run_offsets(outcomes, chunk, runs_before, offsets);
    // Earlier chunks' runs are kept when the arena grows; this chunk's are written below.
    v.runs = static_cast<stages::Run*>(runs_.reserve_keeping((total_runs > 0 ? total_runs : 1) * sizeof(stages::Run),
                                                             runs_before * sizeof(stages::Run), device_, stream));
    cv.runs = v.runs;
    BWL_CUDA_CHECK(cudaMemcpyAsync(const_cast<uint64_t*>(cv.run_offsets), offsets + chunk.first,
                                   chunk.count * sizeof(uint64_t), cudaMemcpyHostToDevice, stream));
    clock_.start(stream);
    launch_write_runs(cv, stream);
    clock_.stop(stream, clock_.times.decode_ms);
  }
  if (v.runs == nullptr) v.runs = runs_.reserve_as<stages::Run>(1, device_, stream);  // no blocks
  BWL_CUDA_CHECK(cudaEventRecord(offsets_uploaded_, stream));
}

void CudaBatchProcessor::fill(const engine::Collection& collection, const engine::BatchRequest& request,
                              const engine::BatchPlan& plan, stages::DeviceBatchView& v, cudaStream_t stream) {
  const size_t n_columns = plan.batch * plan.n_tracks;
  const uint64_t elements = uint64_t{n_columns} * plan.cells;
  clock_.start(stream);
  if (request.window_size == 1) {
    launch_prefill(v, elements, stream);
  } else {
    v.sums = sums_.reserve_as<double>(elements > 0 ? elements : 1, device_, stream);
    v.covered = covered_.reserve_as<uint32_t>(elements > 0 ? elements : 1, device_, stream);
    BWL_CUDA_CHECK(cudaMemsetAsync(v.sums, 0, elements * sizeof(double), stream));
    BWL_CUDA_CHECK(cudaMemsetAsync(v.covered, 0, elements * sizeof(uint32_t), stream));
  }
  const size_t overlap_words = 2 * (n_columns > 0 ? n_columns : 1);
  v.overlaps = overlaps_.reserve_as<uint32_t>(overlap_words, device_, stream);
  BWL_CUDA_CHECK(cudaMemsetAsync(v.overlaps, 0, overlap_words * sizeof(uint32_t), stream));
  launch_fill_columns(v, stream);
  clock_.stop(stream, clock_.times.fill_ms);
  // Columns whose runs overlap across blocks (a corrupt file) refuse the batch, as the CPU
  // backend does: the host must learn it before returning, at the cost of waiting for the fill.
  auto* overlaps = overlaps_host_.reserve_as<uint32_t>(overlap_words);
  BWL_CUDA_CHECK(
      cudaMemcpyAsync(overlaps, v.overlaps, overlap_words * sizeof(uint32_t), cudaMemcpyDeviceToHost, stream));
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after the write-runs, prefill and fill kernels");
  engine::check_column_order(collection, plan, overlaps);
  if (clock_.enabled()) ++clock_.times.batches;
}

std::shared_ptr<Tensor> CudaBatchProcessor::fill_new_values(const engine::Collection& collection,
                                                            const engine::BatchRequest& request,
                                                            const engine::BatchPlan& plan) {
  // Allocated on the processor's stream (stream-ordered), so run() may use it at once.
  auto values = std::make_shared<DeviceTensor>(stream_, plan.output_shape(), request.dtype);
  run(collection, request, plan, values->data());
  values->record_ready(stream());
  return values;
}

// The tensors the hooks see are the DeviceTensors fill_new_values made.
void CudaBatchProcessor::smooth(Tensor& values, int64_t width) {
  moving_average_rows(static_cast<DeviceTensor&>(values), width);
}

void CudaBatchProcessor::flip(Tensor& values, const std::vector<uint8_t>& flip,
                              const std::vector<int64_t>& permutation) {
  flip_rows(static_cast<DeviceTensor&>(values), flip, permutation);
}

std::shared_ptr<Tensor> CudaBatchProcessor::place_sequences(std::shared_ptr<HostTensor> sequences) {
  return to_device(*sequences, device_);
}

}  // namespace bwl::cuda
