#include "bindings/backend_factory.hpp"

#include <string>

#include "common/errors.hpp"
#include "cpu/cpu_backend.hpp"

#ifdef BWL_HAVE_CUDA
#include "cuda_backend.hpp"
#endif

namespace bwl::bindings {

std::unique_ptr<engine::BatchBackend> make_backend(int device, size_t threads) {
  if (device == kCpuDevice) return std::make_unique<cpu::CpuBackend>(threads);
  if (device < 0) throw InvalidArgument("device ordinal must be -1 (CPU) or a CUDA device number");
#ifdef BWL_HAVE_CUDA
  return std::make_unique<cuda::CudaBackend>(device, threads);
#else
  throw DeviceError("bigwig-loader was built without CUDA: cuda:" + std::to_string(device) + " is not available");
#endif
}

}  // namespace bwl::bindings
