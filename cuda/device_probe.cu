#include "device_probe.hpp"

#include <cuda_runtime.h>
#include <dlfcn.h>

namespace bwl::cuda {
namespace {

struct Probe {
  int count = 0;
  cudaError_t error = cudaSuccess;
};

// Asked once: cudaGetDeviceCount initialises the runtime, and its answer cannot change
// within a process.
const Probe& probe() {
  static const Probe result = [] {
    Probe p;
    p.error = cudaGetDeviceCount(&p.count);
    if (p.error != cudaSuccess) {
      p.count = 0;
      cudaGetLastError();  // reset the runtime's last-error state
    }
    return p;
  }();
  return result;
}

}  // namespace

int device_count() { return probe().count; }

// Whether the NVIDIA driver's library can be loaded at all: without it the runtime reports
// cudaErrorInsufficientDriver, whose text ("driver version is insufficient") reads as "update
// the driver" on a machine that has no driver and no GPU.
bool driver_library_present() {
  void* handle = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (handle == nullptr) return false;
  ::dlclose(handle);
  return true;
}

const char* unavailable_reason() {
  const Probe& p = probe();
  switch (p.error) {
    case cudaSuccess: return p.count == 0 ? "no CUDA device is visible" : "";
    case cudaErrorNoDevice: return "no CUDA device found (the NVIDIA driver is installed, but it sees no GPU)";
    case cudaErrorInsufficientDriver:
      if (!driver_library_present())
        return "no CUDA driver found (libcuda.so.1 is not installed): no GPU on this machine";
      return "the NVIDIA driver is older than the CUDA runtime this build uses: update the driver";
    default: return cudaGetErrorString(p.error);
  }
}

}  // namespace bwl::cuda
