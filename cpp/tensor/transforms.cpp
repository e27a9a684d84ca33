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

void flip_rows(HostTensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
  check_flip_rows(t, flip, permutation);
  const auto batch = static_cast<size_t>(t.shape()[0]);
  const auto length = static_cast<size_t>(t.shape()[1]);
  const auto channels = static_cast<size_t>(t.shape()[2]);
  const size_t item = dtype_bytes(t.dtype());
  const size_t row_bytes = length * channels * item;
  std::vector<uint8_t> row(row_bytes);
  auto* data = static_cast<uint8_t*>(t.data());
  for (size_t b = 0; b < batch; ++b) {
    if (!flip[b]) continue;
    uint8_t* dst = data + b * row_bytes;
    std::memcpy(row.data(), dst, row_bytes);
    for (size_t i = 0; i < length; ++i) {
      const uint8_t* src_pos = row.data() + (length - 1 - i) * channels * item;
      uint8_t* dst_pos = dst + i * channels * item;
      for (size_t k = 0; k < channels; ++k) {
        std::memcpy(dst_pos + k * item, src_pos + static_cast<size_t>(permutation[k]) * item, item);
      }
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
