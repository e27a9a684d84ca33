#include "python_bindings/processor_factory.hpp"

#include <string>

#include "common/errors.hpp"
#include "cpu/cpu_batch_processor.hpp"

#ifdef BWL_HAVE_CUDA
#include "cuda_batch_processor.hpp"
#endif

namespace bwl::bindings {

std::unique_ptr<engine::BatchProcessor> make_processor(const ProcessorSettings& settings) {
  const int device = settings.device;
  if (device == engine::kCpuDevice) return std::make_unique<cpu::CpuBatchProcessor>(settings.threads);
  if (device < 0) throw InvalidArgument("device ordinal must be -1 (CPU) or a CUDA device number");
#ifdef BWL_HAVE_CUDA
  return std::make_unique<cuda::CudaBatchProcessor>(
      device, settings.threads, settings.staging_bytes,
      settings.inflate_cap == 0 ? cuda::kDefaultInflateCap : settings.inflate_cap);
#else
  throw DeviceError("bigwig-loader was built without CUDA: cuda:" + std::to_string(device) + " is not available");
#endif
}

}  // namespace bwl::bindings
