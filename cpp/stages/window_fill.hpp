#pragma once
// Filling one output column of a batch, (window w, track k) -> `cells` values, from the decoded
// runs of the blocks that window needs. Pure functions, host and device (BWL_HD).
//
// Coordinates: the window starts at `window_start` (64-bit: it may be negative, and global
// arithmetic never goes through 32 bits); only bases in [lo, hi) can hold data, where [lo, hi)
// is the window clipped to [0, chromosome size in this file) and to the last whole cell (the
// partial last window is dropped). Bases outside read as the default value.
//
// Arithmetic (the reference's, which users rely on), per cell of w bases:
//   default NaN:  mean of the covered bases' values, NaN when none is covered;
//   otherwise:    (sum of covered values + uncovered bases * default) / w.
// `scale` multiplies stored values only, never the default. Stored NaN stays NaN.
#include <cstdint>
#include <cstring>

#include "common/hd.hpp"
#include "stages/run.hpp"

namespace bwl::stages {

struct ColumnQuery {
  int64_t window_start;  // genomic position of cell 0's first base
  uint32_t chrom_id;     // the file's own id of the window's chromosome
  uint32_t lo, hi;       // bases that may hold data; lo >= hi when none can
};

// window_size == 1: cells[i] is base window_start + i. Writes scale * value over the runs'
// covered bases, later runs winning (as libBigWig does where runs overlap, which no valid file
// has); bases no run covers are untouched: the caller pre-fills the default. BigWig.values()
// is this with the window [start, end) and scale 1.
BWL_HD inline void fill_single_base_cells(const Run* runs, uint32_t n_runs, const ColumnQuery& q, float scale,
                                          float* cells) {
  for (uint32_t r = 0; r < n_runs; ++r) {
    const Run run = runs[r];
    if (run.chrom_id != q.chrom_id || run.end <= q.lo || run.start >= q.hi) continue;
    const uint32_t from = run.start > q.lo ? run.start : q.lo;
    const uint32_t to = run.end < q.hi ? run.end : q.hi;
    const float v = run.value * scale;
    float* dst = cells + (int64_t{from} - q.window_start);
    for (uint32_t b = from; b < to; ++b) *dst++ = v;
  }
}

// window_size > 1: adds each run's covered bases into per-cell sums and covered counts.
// Sums are in double: a 128-base cell of float values is exact to well below float precision.
BWL_HD inline void accumulate_window_cells(const Run* runs, uint32_t n_runs, const ColumnQuery& q,
                                           uint32_t window_size, double* sums, uint32_t* covered) {
  for (uint32_t r = 0; r < n_runs; ++r) {
    const Run run = runs[r];
    if (run.chrom_id != q.chrom_id || run.end <= q.lo || run.start >= q.hi) continue;
    int64_t from = (run.start > q.lo ? run.start : q.lo) - q.window_start;
    const int64_t to = (run.end < q.hi ? run.end : q.hi) - q.window_start;
    const double v = run.value;
    while (from < to) {
      const int64_t cell = from / window_size;
      const int64_t cell_end = (cell + 1) * window_size;
      const int64_t stop = to < cell_end ? to : cell_end;
      sums[cell] += v * static_cast<double>(stop - from);
      covered[cell] += static_cast<uint32_t>(stop - from);
      from = stop;
    }
  }
}

BWL_HD inline float finalize_window_cell(double sum, uint32_t covered, uint32_t window_size, float scale,
                                         float default_value) {
  if (default_value != default_value) {  // NaN default: mean of the covered bases
    return covered == 0 ? default_value : static_cast<float>(sum * scale / covered);
  }
  return static_cast<float>((sum * scale + static_cast<double>(window_size - covered) * default_value) /
                            window_size);
}

// float32 -> bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN of the same sign.
BWL_HD inline uint16_t to_bfloat16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace bwl::stages
