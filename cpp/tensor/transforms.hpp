#pragma once
// In-place transforms of (batch, length, channels) host tensors, any dtype, used by the
// datasets' augmentations: they run on memory no consumer has seen yet.
#include <cstdint>
#include <vector>

#include "tensor/tensor.hpp"

namespace bwl {

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
