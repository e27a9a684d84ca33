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

// The runs one column reads, walked block by block in file order, must each start at or after
// the end of the run the column kept before: decoding refuses items out of order within a block
// (stages/section_decode.hpp), and this catches items of different blocks that overlap (a
// corrupt file), so that single bases and window averages refuse such a window alike instead of
// answering differently. Only runs the fill keeps (the column's chromosome, inside [lo, hi)) are
// compared, one comparison per run, so a block that feeds several windows, blocks of other
// chromosomes and the stretch of a cached block are all walked as the same in-order sequence.
// Because blocks are decoded in order, an overlap can only be found at the first run a block
// keeps: the caller names that block and the block that kept the run before.
struct RunOrder {
  uint32_t kept_end = 0;   // end of the last run kept
  uint32_t kept_runs = 0;  // runs kept so far
  bool overlap = false;    // some kept run started before the end of the run kept before it
  BWL_HD void keep(const Run& run) {
    if (run.start < kept_end) overlap = true;
    kept_end = run.end;
    ++kept_runs;
  }
};

// window_size == 1: cell i is base window_start + i. Calls store(first, last, scale * value):
// cells [first, last) hold that value, for every run the column keeps, in order (so, for runs
// that do not overlap, at increasing cells); runs that overlap set order.overlap (the caller
// refuses the window), though later runs would win. Bases no run covers are not stored: the
// caller pre-fills the default, or writes it into the gaps between the ranges it is given.
// `store` lets the CUDA backend write strided, converted output directly.
template <typename Store>
BWL_HD inline void fill_single_base(const Run* runs, uint32_t n_runs, const ColumnQuery& q, float scale,
                                    RunOrder& order, Store&& store) {
  for (uint32_t r = 0; r < n_runs; ++r) {
    const Run run = runs[r];
    if (run.chrom_id != q.chrom_id || run.end <= q.lo || run.start >= q.hi) continue;
    order.keep(run);
    const uint32_t from = run.start > q.lo ? run.start : q.lo;
    const uint32_t to = run.end < q.hi ? run.end : q.hi;
    store(int64_t{from} - q.window_start, int64_t{to} - q.window_start, run.value * scale);
  }
}

// fill_single_base into contiguous cells. BigWig.values() is this with the window [start, end)
// and scale 1.
BWL_HD inline void fill_single_base_cells(const Run* runs, uint32_t n_runs, const ColumnQuery& q, float scale,
                                          RunOrder& order, float* cells) {
  fill_single_base(runs, n_runs, q, scale, order, [cells](int64_t first, int64_t last, float v) {
    for (int64_t cell = first; cell < last; ++cell) cells[cell] = v;
  });
}

// window_size > 1: one cell's contributions, summed in registers while the runs stay in it.
// A column's runs come in order (across its blocks too: RunOrder), so each cell's contributions
// come one after another and the cell is handed on (add) once, when the runs move past it, or by
// flush after the last block: its sum is formed in the order adding each contribution into
// memory would form it, bit for bit (the first added to 0 is itself), without a store and a load
// of the cell's sum between contributions (a chain of dependent memory round trips where several
// runs share a cell), and a division only where a run starts past the pending cell.
struct CellSum {
  int64_t cell = 0;
  int64_t cell_end = 0;  // (cell + 1) * window_size; 0 while no cell is pending
  double sum = 0.0;
  uint32_t bases = 0;

  template <typename Add>
  BWL_HD void flush(Add&& add) {
    if (bases > 0) add(cell, sum, bases);
    bases = 0;
  }
};

// window_size > 1: calls add(cell, sum, bases) with the runs' contribution to each cell they
// cover: the sum of their values over those bases, and their count, through `pending` (CellSum:
// the caller flushes it after the column's last block). Sums are in double: a 128-base cell of
// float values is exact to well below float precision.
template <typename Add>
BWL_HD inline void accumulate_window(const Run* runs, uint32_t n_runs, const ColumnQuery& q, uint32_t window_size,
                                     RunOrder& order, CellSum& pending, Add&& add) {
  for (uint32_t r = 0; r < n_runs; ++r) {
    const Run run = runs[r];
    if (run.chrom_id != q.chrom_id || run.end <= q.lo || run.start >= q.hi) continue;
    order.keep(run);
    int64_t from = (run.start > q.lo ? run.start : q.lo) - q.window_start;
    const int64_t to = (run.end < q.hi ? run.end : q.hi) - q.window_start;
    const double v = run.value;
    while (from < to) {
      if (from >= pending.cell_end) {
        pending.flush(add);
        pending.cell = from / window_size;
        pending.cell_end = (pending.cell + 1) * window_size;
        pending.sum = 0.0;
      }
      const int64_t stop = to < pending.cell_end ? to : pending.cell_end;
      pending.sum += v * static_cast<double>(stop - from);
      pending.bases += static_cast<uint32_t>(stop - from);
      from = stop;
    }
  }
}

// accumulate_window into contiguous per-cell sums and covered-base counts, this call's
// contributions added to what they hold.
BWL_HD inline void accumulate_window_cells(const Run* runs, uint32_t n_runs, const ColumnQuery& q, uint32_t window_size,
                                           RunOrder& order, double* sums, uint32_t* covered) {
  auto add = [sums, covered](int64_t cell, double sum, uint32_t bases) {
    sums[cell] += sum;
    covered[cell] += bases;
  };
  CellSum pending;
  accumulate_window(runs, n_runs, q, window_size, order, pending, add);
  pending.flush(add);
}

BWL_HD inline float finalize_window_cell(double sum, uint32_t covered, uint32_t window_size, float scale,
                                         float default_value) {
  // Runs that overlap are refused (RunOrder above), so no base is counted twice; the clamp is a
  // defensive bound that keeps the default's weight from wrapping to ~4e9 should a caller ever
  // fill from runs it has not checked.
  if (covered > window_size) covered = window_size;
  if (default_value != default_value) {  // NaN default: mean of the covered bases
    return covered == 0 ? default_value : static_cast<float>(sum * scale / covered);
  }
  return static_cast<float>((sum * scale + static_cast<double>(window_size - covered) * default_value) / window_size);
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
