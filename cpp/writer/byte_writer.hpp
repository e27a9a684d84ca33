#pragma once
// Little-endian stores into a growing byte vector: the one way the writer lays out fields, so
// no struct is ever copied to disk with the host's padding or byte order.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bwl::writer {

using Bytes = std::vector<uint8_t>;

inline void put_u8(Bytes& b, uint8_t v) { b.push_back(v); }
inline void put_u16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
inline void put_u32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_f32(Bytes& b, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_u32(b, bits);
}
inline void put_f64(Bytes& b, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  put_u64(b, bits);
}
// `s` then zeros up to `width` bytes (the B+ tree's fixed-width keys); s.size() <= width.
inline void put_padded(Bytes& b, const std::string& s, size_t width) {
  b.insert(b.end(), s.begin(), s.end());
  b.insert(b.end(), width - s.size(), 0);
}

}  // namespace bwl::writer
