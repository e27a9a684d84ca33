#include "device_transforms.hpp"

#include <map>
#include <memory>

#include "cuda_check.hpp"
#include "device_memory.hpp"
#include "stream_memory.hpp"
#include "tensor/transforms.hpp"

namespace bwl::cuda {
namespace {

constexpr unsigned kThreads = 128;

// out[b, i, k] = in[b, length - 1 - i, permutation[k]] for flipped rows b, one thread per element.
__global__ void flip_kernel(const uint8_t* in, uint8_t* out, const uint8_t* flip, const int64_t* permutation,
                            uint64_t batch, uint64_t length, uint64_t channels, uint32_t item) {
  const uint64_t e = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (e >= batch * length * channels) return;
  const uint64_t k = e % channels;
  const uint64_t i = (e / channels) % length;
  const uint64_t b = e / (channels * length);
  if (!flip[b]) return;
  const uint64_t from = (b * length + (length - 1 - i)) * channels + static_cast<uint64_t>(permutation[k]);
  for (uint32_t byte = 0; byte < item; ++byte) out[e * item + byte] = in[from * item + byte];
}

__global__ void moving_average_kernel(void* data, double* prefix, uint64_t batch, int64_t length, uint64_t channels,
                                      DType dtype, int64_t width) {
  const uint64_t column = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (column >= batch * channels) return;
  const uint64_t b = column / channels, k = column % channels;
  moving_average_column(data, b * static_cast<uint64_t>(length) * channels + k, channels, length, dtype, width,
                        prefix + column * static_cast<uint64_t>(length + 1));
}

unsigned blocks_for(uint64_t items) { return static_cast<unsigned>((items + kThreads - 1) / kThreads); }

// The transforms' stream and scratch, per worker (a calling thread) and device, made once and
// kept: a warm worker allocates nothing per call. The scratch is used only on this stream, in
// call order, so a call may reuse it while the previous call's kernels are still queued. The
// stream is non-blocking: the per-thread default stream would wait for (and hold up) work on
// the legacy default stream, which is PyTorch's default stream, the training's.
struct TransformScratch {
  std::unique_ptr<OwnedStream> stream;  // first: destroyed last, after the buffers used on it
  DeviceBuffer copy;                    // flip: the tensor's contents before the flip
  DeviceBuffer args;                    // flip: flags and permutation
  DeviceBuffer prefix;                  // moving average: per-column prefix sums
};

TransformScratch& scratch_for(int device) {
  thread_local std::map<int, TransformScratch> per_device;
  TransformScratch& scratch = per_device[device];
  if (!scratch.stream) scratch.stream = std::make_unique<OwnedStream>(device);
  return scratch;
}

}  // namespace

void flip_rows(DeviceTensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
  check_flip_rows(t, flip, permutation);
  DeviceGuard guard(t.device());
  TransformScratch& scratch = scratch_for(t.device());
  const cudaStream_t stream = scratch.stream->get();
  t.order_after_ready(stream);
  const size_t bytes = t.nbytes();
  void* source = scratch.copy.reserve(bytes, t.device(), stream);
  const size_t arg_bytes = flip.size() + 8 * permutation.size() + 8;
  auto* flags = static_cast<uint8_t*>(scratch.args.reserve(arg_bytes, t.device(), stream));
  auto* perm = reinterpret_cast<int64_t*>(flags + (flip.size() + 7) / 8 * 8);
  BWL_CUDA_CHECK(cudaMemcpyAsync(source, t.data(), bytes, cudaMemcpyDeviceToDevice, stream));
  // From pageable host memory: the copies have taken the vectors' bytes when they return.
  BWL_CUDA_CHECK(cudaMemcpyAsync(flags, flip.data(), flip.size(), cudaMemcpyHostToDevice, stream));
  BWL_CUDA_CHECK(cudaMemcpyAsync(perm, permutation.data(), permutation.size() * 8, cudaMemcpyHostToDevice, stream));
  const uint64_t elements = t.size();
  if (elements > 0) {
    launch_checked("flip_kernel", [&] {
      flip_kernel<<<blocks_for(elements), kThreads, 0, stream>>>(
          static_cast<const uint8_t*>(source), static_cast<uint8_t*>(t.data()), flags, perm, t.shape()[0], t.shape()[1],
          t.shape()[2], static_cast<uint32_t>(dtype_bytes(t.dtype())));
    });
  }
  t.record_ready(stream);
}

void moving_average_rows(DeviceTensor& t, int64_t width) {
  if (!check_moving_average_rows(t, width)) return;
  DeviceGuard guard(t.device());
  TransformScratch& scratch = scratch_for(t.device());
  const cudaStream_t stream = scratch.stream->get();
  t.order_after_ready(stream);
  const uint64_t batch = t.shape()[0], channels = t.shape()[2];
  const int64_t length = t.shape()[1];
  const uint64_t prefix_count = batch * channels * static_cast<uint64_t>(length + 1) + 1;
  auto* sums = scratch.prefix.reserve_as<double>(prefix_count, t.device(), stream);
  if (batch * channels > 0) {
    launch_checked("moving_average_kernel", [&] {
      moving_average_kernel<<<blocks_for(batch * channels), kThreads, 0, stream>>>(t.data(), sums, batch, length,
                                                                                   channels, t.dtype(), width);
    });
  }
  t.record_ready(stream);
}

std::shared_ptr<DeviceTensor> to_device(const HostTensor& host, int device) {
  const std::shared_ptr<OwnedStream> stream = upload_stream(device);
  auto out = std::make_shared<DeviceTensor>(stream, host.shape(), host.dtype());
  DeviceGuard guard(device);
  if (host.nbytes() > 0) {
    BWL_CUDA_CHECK(cudaMemcpyAsync(out->data(), host.data(), host.nbytes(), cudaMemcpyHostToDevice, stream->get()));
  }
  out->record_ready(stream->get());
  // Synchronous with respect to `host`'s memory, as promised: waits for this one stream only.
  BWL_CUDA_CHECK(cudaStreamSynchronize(stream->get()));
  return out;
}

}  // namespace bwl::cuda
