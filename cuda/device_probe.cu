#include "device_probe.hpp"

#include <cuda_runtime.h>

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

const char* unavailable_reason() {
  const Probe& p = probe();
  if (p.error != cudaSuccess) return cudaGetErrorString(p.error);
  return p.count == 0 ? "no CUDA device is visible" : "";
}

}  // namespace bwl::cuda
