#pragma once
// The one store of a batch value into the output tensor, for both backends (the CPU backend's
// column store and the CUDA kernels) and the datasets' in-place transforms.
//
// Invariant: every NaN in an output is the canonical quiet NaN, 0x7FC00000 in float32 and
// 0x7FC0 in bfloat16. Float arithmetic does not keep NaN bits portable (x86 returns the
// quieted input NaN, CUDA its own 0x7FFFFFFF), and files may store NaN with any sign and
// payload: canonicalizing here, where every value is written, is what makes the backends agree
// bit for bit on every file.
#include <cstdint>
#include <cstring>

#include "common/dtype.hpp"
#include "common/hd.hpp"
#include "stages/window_fill.hpp"

namespace bwl::stages {

constexpr uint32_t kCanonicalNanFloat32 = 0x7FC00000u;
constexpr uint16_t kCanonicalNanBFloat16 = 0x7FC0u;

// `value`, with any NaN replaced by the canonical one.
BWL_HD inline float canonical(float value) {
  if (value != value) {
    const uint32_t bits = kCanonicalNanFloat32;
    memcpy(&value, &bits, sizeof value);
  }
  return value;
}

// Element i of a float32 or bfloat16 output gets `value`, NaN canonical.
BWL_HD inline void store_output(void* out, uint64_t i, DType dtype, float value) {
  if (dtype == DType::BFloat16) {
    static_cast<uint16_t*>(out)[i] = value != value ? kCanonicalNanBFloat16 : to_bfloat16(value);
  } else {
    static_cast<float*>(out)[i] = canonical(value);
  }
}

// out[base + j] = values[j] for j in [0, n), as store_output stores each: the dtype resolved once
// and the float32 loop branch-free, so that the compiler vectorizes it (the CPU fill stores a
// tile of every track of a window at once; one store_output call a cell was 60% of a warm batch
// of one window).
BWL_HD inline void store_outputs(void* out, uint64_t base, DType dtype, const float* values, uint64_t n) {
  if (dtype == DType::BFloat16) {
    for (uint64_t j = 0; j < n; ++j) store_output(out, base + j, dtype, values[j]);
    return;
  }
  float* dst = static_cast<float*>(out) + base;
  for (uint64_t j = 0; j < n; ++j) {
    const float v = values[j];
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits = v != v ? kCanonicalNanFloat32 : bits;
    memcpy(dst + j, &bits, sizeof bits);
  }
}

}  // namespace bwl::stages
