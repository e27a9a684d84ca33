#include "tensor/transforms.hpp"

#include <cstring>
#include <string>

#include "common/errors.hpp"

namespace bwl {

void check_flip_rows(const Tensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
  if (t.shape().size() != 3) throw InvalidArgument("expected a (batch, length, channels) tensor");
  const auto channels = static_cast<size_t>(t.shape()[2]);
  if (flip.size() != static_cast<size_t>(t.shape()[0])) throw InvalidArgument("flip needs one flag per batch row");
  if (permutation.size() != channels) throw InvalidArgument("the permutation needs one entry per channel");
  std::vector<bool> seen(channels, false);
  for (int64_t p : permutation) {
    if (p < 0 || static_cast<size_t>(p) >= channels || seen[static_cast<size_t>(p)]) {
      throw InvalidArgument("not a permutation of the channels");
    }
    seen[static_cast<size_t>(p)] = true;
  }
}

bool check_moving_average_rows(const Tensor& t, int64_t width) {
  if (t.shape().size() != 3) throw InvalidArgument("expected a (batch, length, channels) tensor");
  if (width < 1) throw InvalidArgument("the moving average width must be at least 1");
  if (t.dtype() == DType::UInt8) throw InvalidArgument("moving averages are for float32 and bfloat16 tensors");
  return width > 1;
}

namespace {

// One flipped row, elements of type T (the copy of the row is `scratch`): out[i][k] =
// in[length - 1 - i][permutation[k]]. Typed, so that each element is one load and one store
// (a memcpy of a run-time size per element cost half a training batch's time with flips).
template <typename T>
void flip_row(T* row, T* scratch, size_t length, size_t channels, const int64_t* permutation) {
  std::memcpy(scratch, row, length * channels * sizeof(T));
  for (size_t i = 0; i < length; ++i) {
    const T* from = scratch + (length - 1 - i) * channels;
    T* to = row + i * channels;
    for (size_t k = 0; k < channels; ++k) to[k] = from[permutation[k]];
  }
}

}  // namespace

void flip_rows(HostTensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
  check_flip_rows(t, flip, permutation);
  const auto batch = static_cast<size_t>(t.shape()[0]);
  const auto length = static_cast<size_t>(t.shape()[1]);
  const auto channels = static_cast<size_t>(t.shape()[2]);
  const size_t row_elements = length * channels;
  const size_t item = dtype_bytes(t.dtype());  // elements move as their bits: 4, 2 or 1 bytes
  std::vector<uint32_t> scratch((row_elements * item + 3) / 4);
  for (size_t b = 0; b < batch; ++b) {
    if (!flip[b]) continue;
    void* row = static_cast<uint8_t*>(t.data()) + b * row_elements * item;
    if (item == 4) {
      flip_row(static_cast<uint32_t*>(row), scratch.data(), length, channels, permutation.data());
    } else if (item == 2) {
      flip_row(static_cast<uint16_t*>(row), reinterpret_cast<uint16_t*>(scratch.data()), length, channels,
               permutation.data());
    } else {
      flip_row(static_cast<uint8_t*>(row), reinterpret_cast<uint8_t*>(scratch.data()), length, channels,
               permutation.data());
    }
  }
}

void moving_average_rows(HostTensor& t, int64_t width) {
  if (!check_moving_average_rows(t, width)) return;
  const auto batch = static_cast<size_t>(t.shape()[0]);
  const auto length = static_cast<int64_t>(t.shape()[1]);
  const auto channels = static_cast<size_t>(t.shape()[2]);
  std::vector<double> prefix(static_cast<size_t>(length) + 1);
  for (size_t b = 0; b < batch; ++b) {
    for (size_t k = 0; k < channels; ++k) {
      moving_average_column(t.data(), b * static_cast<size_t>(length) * channels + k, channels, length, t.dtype(),
                            width, prefix.data());
    }
  }
}

}  // namespace bwl
