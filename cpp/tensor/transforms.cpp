#include "tensor/transforms.hpp"

#include <cstring>
#include <string>

#include "common/errors.hpp"
#include "stages/window_fill.hpp"

namespace bwl {
namespace {

void check_3d(const HostTensor& t) {
  if (t.shape().size() != 3) throw InvalidArgument("expected a (batch, length, channels) tensor");
}

float load_value(const void* base, size_t i, DType d) {
  if (d == DType::Float32) return static_cast<const float*>(base)[i];
  const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(base)[i]) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void store_value(void* base, size_t i, DType d, float v) {
  if (d == DType::Float32) {
    static_cast<float*>(base)[i] = v;
  } else {
    static_cast<uint16_t*>(base)[i] = stages::to_bfloat16(v);
  }
}

}  // namespace

void flip_rows(HostTensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
  check_3d(t);
  const auto batch = static_cast<size_t>(t.shape()[0]);
  const auto length = static_cast<size_t>(t.shape()[1]);
  const auto channels = static_cast<size_t>(t.shape()[2]);
  if (flip.size() != batch) throw InvalidArgument("flip needs one flag per batch row");
  if (permutation.size() != channels) throw InvalidArgument("the permutation needs one entry per channel");
  std::vector<bool> seen(channels, false);
  for (int64_t p : permutation) {
    if (p < 0 || static_cast<size_t>(p) >= channels || seen[static_cast<size_t>(p)]) {
      throw InvalidArgument("not a permutation of the channels");
    }
    seen[static_cast<size_t>(p)] = true;
  }
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
  check_3d(t);
  if (width < 1) throw InvalidArgument("the moving average width must be at least 1");
  if (t.dtype() == DType::UInt8) throw InvalidArgument("moving averages are for float32 and bfloat16 tensors");
  if (width == 1) return;
  const auto batch = static_cast<size_t>(t.shape()[0]);
  const auto length = static_cast<int64_t>(t.shape()[1]);
  const auto channels = static_cast<size_t>(t.shape()[2]);
  const int64_t before = (width - 1) / 2, after = width / 2;
  std::vector<double> prefix(static_cast<size_t>(length) + 1);
  std::vector<float> averaged(static_cast<size_t>(length));
  for (size_t b = 0; b < batch; ++b) {
    for (size_t k = 0; k < channels; ++k) {
      const size_t base = b * static_cast<size_t>(length) * channels + k;
      prefix[0] = 0;
      for (int64_t i = 0; i < length; ++i) {
        prefix[static_cast<size_t>(i) + 1] = prefix[static_cast<size_t>(i)] + load_value(t.data(), base + static_cast<size_t>(i) * channels, t.dtype());
      }
      for (int64_t i = 0; i < length; ++i) {
        const int64_t lo = i - before < 0 ? 0 : i - before;
        const int64_t hi = i + after + 1 > length ? length : i + after + 1;
        averaged[static_cast<size_t>(i)] =
            static_cast<float>((prefix[static_cast<size_t>(hi)] - prefix[static_cast<size_t>(lo)]) / static_cast<double>(hi - lo));
      }
      for (int64_t i = 0; i < length; ++i) store_value(t.data(), base + static_cast<size_t>(i) * channels, t.dtype(), averaged[static_cast<size_t>(i)]);
    }
  }
}

}  // namespace bwl
