#pragma once
// CUDA runtime calls in the backend go through BWL_CUDA_CHECK: a failure becomes a DeviceError
// naming the call and the runtime's message, never a silent wrong answer.
#include <cuda_runtime.h>

#include <string>

#include "common/errors.hpp"

namespace bwl::cuda {

inline void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky last error of non-fatal failures
    throw DeviceError(std::string("CUDA error in ") + call + ": " + cudaGetErrorString(status));
  }
}

// Makes `device` current for this thread for the guard's lifetime (CUDA's current device is
// per thread, and loader workers, Python threads and deleters each run on their own).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace bwl::cuda

#define BWL_CUDA_CHECK(call) ::bwl::cuda::check((call), #call)
