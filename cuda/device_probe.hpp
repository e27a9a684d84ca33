#pragma once
// Whether this process can use a CUDA device. Safe to call on machines with no driver.
namespace bwl::cuda {

// Number of CUDA devices visible to this process; 0 when there is no driver or no device
// (never throws: a missing GPU is an ordinary state, not an error).
int device_count();

// Why there is no device ("" when device_count() > 0), in words a user can act on: no driver,
// no GPU, a driver too old, or else the CUDA runtime's error string.
const char* unavailable_reason();

}  // namespace bwl::cuda
