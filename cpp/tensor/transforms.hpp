#pragma once
// In-place transforms of (batch, length, channels) host tensors, any dtype, used by the
// datasets' augmentations: they run on memory no consumer has seen yet.
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/hd.hpp"
#include "stages/output_store.hpp"
#include "tensor/tensor.hpp"

namespace bwl {

// Argument checks shared by the host and device versions; InvalidArgument when wrong.
void check_flip_rows(const Tensor& tensor, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation);
// Returns false when there is nothing to do (width 1).
bool check_moving_average_rows(const Tensor& tensor, int64_t width);

// Element i of a float32 or bfloat16 array, as float.
BWL_HD inline float load_as_float(const void* base, size_t i, DType d) {
  if (d == DType::Float32) return static_cast<const float*>(base)[i];
  const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(base)[i]) << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

// Through the batches' output store: a transformed NaN is the canonical NaN too.
BWL_HD inline void store_from_float(void* base, size_t i, DType d, float v) { stages::store_output(base, i, d, v); }

// The moving average of one column (elements base + i * stride, i < length) in place, with
// prefix[0, length] as scratch: sums in double, so the host and device versions agree bit for bit.
BWL_HD inline void moving_average_column(void* data, size_t base, size_t stride, int64_t length, DType dtype,
                                         int64_t width, double* prefix) {
  const int64_t before = (width - 1) / 2, after = width / 2;
  prefix[0] = 0;
  for (int64_t i = 0; i < length; ++i) {
    prefix[i + 1] = prefix[i] + load_as_float(data, base + static_cast<size_t>(i) * stride, dtype);
  }
  for (int64_t i = 0; i < length; ++i) {
    const int64_t lo = i - before < 0 ? 0 : i - before;
    const int64_t hi = i + after + 1 > length ? length : i + after + 1;
    const auto mean = static_cast<float>((prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo));
    store_from_float(data, base + static_cast<size_t>(i) * stride, dtype, mean);
  }
}

// For every row b with flip[b] != 0: reverses the length axis and permutes the channel axis,
// out[b, i, k] = in[b, length - 1 - i, permutation[k]]. With permutation [3, 2, 1, 0] on a
// one-hot (A, C, G, T) tensor this is the reverse complement; on track values, a permutation
// that swaps strand pairs. Throws InvalidArgument for a bad shape, flip or permutation size.
void flip_rows(HostTensor& tensor, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation);

// Replaces every value along the length axis by the mean of the `width` values around it
// (indices [i - (width - 1) / 2, i + width / 2], clipped to the row), per batch row and channel.
// NaN propagates. float32 and bfloat16 (computed in float32, rounded to nearest even).
void moving_average_rows(HostTensor& tensor, int64_t width);

}  // namespace bwl
