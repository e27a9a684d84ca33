#include "fasta/one_hot.hpp"

#include <array>
#include <cctype>
#include <cstring>

#include "stages/window_fill.hpp"

namespace bwl::fasta {
namespace {

using Table = std::array<std::array<float, 4>, 256>;

Table make_table() {
  Table t{};
  auto set = [&](char c, float a, float cc, float g, float tt) {
    t[static_cast<unsigned char>(c)] = {a, cc, g, tt};
    t[static_cast<unsigned char>(std::tolower(c))] = {a, cc, g, tt};
  };
  const float h = 0.5f, third = 0.333f, q = 0.25f;
  set('A', 1, 0, 0, 0);
  set('C', 0, 1, 0, 0);
  set('G', 0, 0, 1, 0);
  set('T', 0, 0, 0, 1);
  set('R', h, 0, h, 0);
  set('Y', 0, h, 0, h);
  set('K', 0, 0, h, h);
  set('M', h, h, 0, 0);
  set('S', 0, h, h, 0);
  set('W', h, 0, 0, h);
  set('B', 0, third, third, third);
  set('D', third, 0, third, third);
  set('H', third, third, 0, third);
  set('V', third, third, third, 0);
  set('N', q, q, q, q);
  return t;
}

const Table& table() {
  static const Table t = make_table();
  return t;
}

}  // namespace

void encode_one_hot(const char* bases, size_t n, DType dtype, void* out) {
  const Table& t = table();
  switch (dtype) {
    case DType::Float32: {
      auto* dst = static_cast<float*>(out);
      for (size_t i = 0; i < n; ++i) std::memcpy(dst + 4 * i, t[static_cast<unsigned char>(bases[i])].data(), 16);
      break;
    }
    case DType::BFloat16: {
      auto* dst = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) {
        const float* w = t[static_cast<unsigned char>(bases[i])].data();
        for (int c = 0; c < 4; ++c) dst[4 * i + c] = stages::to_bfloat16(w[c]);
      }
      break;
    }
    case DType::UInt8: {
      auto* dst = static_cast<uint8_t*>(out);
      for (size_t i = 0; i < n; ++i) {
        const float* w = t[static_cast<unsigned char>(bases[i])].data();
        for (int c = 0; c < 4; ++c) dst[4 * i + c] = w[c] == 1.0f ? 1 : 0;
      }
      break;
    }
  }
}

std::shared_ptr<HostTensor> one_hot_rows(const uint8_t* bases, size_t batch, int64_t length, DType dtype) {
  auto tensor = std::make_shared<HostTensor>(std::vector<int64_t>{static_cast<int64_t>(batch), length, 4}, dtype);
  encode_one_hot(reinterpret_cast<const char*>(bases), batch * static_cast<size_t>(length), dtype, tensor->data());
  return tensor;
}

size_t count_unknown(const char* bases, size_t n) {
  // A table, not is_acgt's chain of comparisons: on real sequence those branches are
  // unpredictable (4 ns a base); a load and an add are not, and the loop vectorizes.
  static const std::array<uint8_t, 256> unknown = [] {
    std::array<uint8_t, 256> u{};
    for (int b = 0; b < 256; ++b) u[static_cast<size_t>(b)] = !is_acgt(static_cast<unsigned char>(b));
    return u;
  }();
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += unknown[static_cast<unsigned char>(bases[i])];
  return count;
}

}  // namespace bwl::fasta
