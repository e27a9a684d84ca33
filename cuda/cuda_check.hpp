#pragma once
// CUDA runtime calls in the backend go through BWL_CUDA_CHECK: a failure becomes a DeviceError
// naming the call and the runtime's message, never a silent wrong answer.
//
// Errors are attributed to the call that made them. The runtime keeps a per-thread "last error"
// that any failed call sets; a kernel launch reports its own failure only there. So:
//   - every runtime call's status is checked (check) or, where nothing can be thrown
//     (destructors), discarded together with the last error it set (discard);
//   - a launch goes through launch_checked, which takes any stale last error first (another
//     library's, or an earlier unchecked call's) so the launch is never blamed for it.
#include <cuda_runtime.h>

#include <new>
#include <string>

#include "common/errors.hpp"

namespace bwl::cuda {

inline void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the last error this failure set, so no later check sees it
    throw DeviceError(std::string("CUDA error in ") + call + ": " + cudaGetErrorString(status));
  }
}

// For calls whose failure cannot be reported (destructors): drops the failure and the last
// error it set. A sticky error (the context is broken) shows again at the next checked call.
inline void discard(cudaError_t status) {
  if (status != cudaSuccess) cudaGetLastError();
}

// Launches through `launch` (a lambda holding one <<<...>>>) and checks the launch's own error.
template <typename Launch>
void launch_checked(const char* kernel, Launch&& launch) {
  cudaGetLastError();  // a stale error is not this launch's (sticky errors still fail below)
  launch();
  check(cudaGetLastError(), kernel);
}

// Makes `device` current for this thread for the guard's lifetime (CUDA's current device is
// per thread, and loader workers, Python threads and deleters each run on their own). Sets
// and restores the device only when it differs: cudaSetDevice on a device this thread has not
// used creates a context there (on GPU 0 in every process using cuda:N, were it always called).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) {
      check(cudaSetDevice(device), "cudaSetDevice");
      changed_ = true;
    }
  }
  // For destructors: never throws; on failure the guard does nothing (and says so in ok()).
  DeviceGuard(int device, std::nothrow_t) {
    if (cudaGetDevice(&previous_) != cudaSuccess) {
      cudaGetLastError();
      ok_ = false;
      return;
    }
    if (previous_ != device) {
      if (cudaSetDevice(device) != cudaSuccess) {
        cudaGetLastError();
        ok_ = false;
        return;
      }
      changed_ = true;
    }
  }
  ~DeviceGuard() {
    if (changed_) discard(cudaSetDevice(previous_));
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

  bool ok() const { return ok_; }

 private:
  int previous_ = 0;
  bool changed_ = false;
  bool ok_ = true;
};

}  // namespace bwl::cuda

#define BWL_CUDA_CHECK(call) ::bwl::cuda::check((call), #call)
