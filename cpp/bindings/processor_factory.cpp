#include "bindings/processor_factory.hpp"

#include <string>

#include "common/errors.hpp"
#include "cpu/cpu_batch_processor.hpp"

#ifdef BWL_HAVE_CUDA
#include "cuda_batch_processor.hpp"
#endif

namespace bwl::bindings {

std::unique_ptr<engine::BatchProcessor> make_processor(int device, size_t threads, size_t staging_bytes,
                                                       size_t inflate_cap) {
  if (device == engine::kCpuDevice) return std::make_unique<cpu::CpuBatchProcessor>(threads);
  if (device < 0) throw InvalidArgument("device ordinal must be -1 (CPU) or a CUDA device number");
#ifdef BWL_HAVE_CUDA
  return std::make_unique<cuda::CudaBatchProcessor>(device, threads, staging_bytes,
                                                    inflate_cap == 0 ? cuda::kDefaultInflateCap : inflate_cap);
#else
  (void)staging_bytes;
  (void)inflate_cap;
  throw DeviceError("bigwig-loader was built without CUDA: cuda:" + std::to_string(device) + " is not available");
#endif
}

}  // namespace bwl::bindings
