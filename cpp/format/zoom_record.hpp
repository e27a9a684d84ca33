#pragma once
// The bigWig zoom record, the one description of it for the writer (writer/bigwig_writer's zoom
// levels) and the survey alike: chromId, start, end, validCount (u32 each), then min, max, sum
// and sumSquares (f32), little-endian, 32 bytes, records back to back in a zoom block.
#include <cstdint>

#include "common/little_endian.hpp"

namespace bwl::format {

constexpr uint32_t kZoomRecordBytes = 32;

struct ZoomRecord {
  uint32_t chrom_id;
  uint32_t start;
  uint32_t end;
  uint32_t valid_count;
  float min_value;
  float max_value;
  float sum;
  float sum_squares;
};

inline ZoomRecord read_zoom_record(const uint8_t* p) {
  return ZoomRecord{load_u32le(p),      load_u32le(p + 4),  load_u32le(p + 8),  load_u32le(p + 12),
                    load_f32le(p + 16), load_f32le(p + 20), load_f32le(p + 24), load_f32le(p + 28)};
}

// Writes `r` to out[0, kZoomRecordBytes).
inline void store_zoom_record(const ZoomRecord& r, uint8_t* out) {
  const uint32_t words[4] = {r.chrom_id, r.start, r.end, r.valid_count};
  const float values[4] = {r.min_value, r.max_value, r.sum, r.sum_squares};
  for (int i = 0; i < 4; ++i) store_u32le(out + 4 * i, words[i]);
  for (int i = 0; i < 4; ++i) store_f32le(out + 16 + 4 * i, values[i]);
}

}  // namespace bwl::format
