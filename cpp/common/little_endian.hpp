#pragma once
// Little-endian loads from unaligned bytes. BBI files written on little-endian machines (all
// that exist in practice) store every field little-endian; big-endian files are rejected at
// the header with a clear error.
#include <cstdint>
#include <cstring>

#include "common/hd.hpp"

namespace bwl {

BWL_HD inline uint16_t load_u16le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

BWL_HD inline uint32_t load_u32le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

BWL_HD inline uint64_t load_u64le(const uint8_t* p) {
  return static_cast<uint64_t>(load_u32le(p)) | (static_cast<uint64_t>(load_u32le(p + 4)) << 32);
}

BWL_HD inline float load_f32le(const uint8_t* p) {
  uint32_t bits = load_u32le(p);
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

BWL_HD inline void store_u32le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

BWL_HD inline void store_f32le(uint8_t* p, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  store_u32le(p, bits);
}

BWL_HD inline double load_f64le(const uint8_t* p) {
  uint64_t bits = load_u64le(p);
  double value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace bwl
