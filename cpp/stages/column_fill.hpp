#pragma once
// Stage 5 for one output column (window w, track k), written once for both backends: the CPU
// processor fills contiguous cells and then transposes a window's columns into the batch; the device
// pipeline stores each cell straight into the strided output (stages/device_pipeline.hpp). Only the
// `Column` they pass differs:
//
//   n_blocks()                the blocks this column needs
//   runs(j, n) -> const Run*  the decoded runs of its j-th block, n of them
//   store_run(i, j, float)    window_size 1: cells [i, j) hold the value; called in increasing
//                             order of cells for a column whose runs do not overlap (the CPU
//                             relies on it: its stores may reach past j, into cells a later
//                             store_run or end_runs writes again)
//   end_runs(cells)           window_size 1, after the last store_run (always called, unless the
//                             column was refused): the cells no run covered hold the default
//                             value, either pre-filled by the caller (the device) or written now
//                             into the gaps the store_runs left (the CPU)
//   store(i, float)           window_size > 1: cell i's value
//   sum(i) -> double&         window_size > 1: per-cell scratch, zeroed by the caller
//   covered(i) -> uint32_t&
//   overlap(earlier, later)   runs of its blocks `earlier` and `later` (indices j) overlap
//                             (stages::RunOrder): the CPU throws the error naming both blocks;
//                             the device records them for the host and the column stops here
//
// Order of arithmetic is fixed here, so both backends agree bit for bit (with --fmad=false).
#include <cstdint>

#include "common/hd.hpp"
#include "stages/run.hpp"
#include "stages/window_fill.hpp"

namespace bwl::stages {

// Runs of different blocks that overlap are refused, one check per block: `earlier` is the
// block that kept the last run before block j, named with j when j's runs start too early.
// Returns false when column.overlap was called (the column is then unfinished).
struct BlockOrder {
  RunOrder order;
  uint32_t earlier = 0;
  uint32_t kept_before = 0;

  BWL_HD void begin_block() { kept_before = order.kept_runs; }
  template <typename Column>
  BWL_HD bool end_block(uint32_t j, Column& column) {
    if (order.overlap) {
      column.overlap(earlier, j);
      return false;
    }
    if (order.kept_runs > kept_before) earlier = j;
    return true;
  }
};

template <typename Column>
BWL_HD inline void fill_column_cells(const ColumnQuery& q, float scale, uint32_t window_size, float default_value,
                                     uint32_t cells, Column& column) {
  BlockOrder blocks;
  if (window_size == 1) {
    for (uint32_t j = 0; j < column.n_blocks(); ++j) {
      uint32_t n;
      const Run* runs = column.runs(j, n);
      blocks.begin_block();
      fill_single_base(runs, n, q, scale, blocks.order,
                       [&column](int64_t first, int64_t last, float x) { column.store_run(first, last, x); });
      if (!blocks.end_block(j, column)) return;
    }
    column.end_runs(cells);
    return;
  }
  auto add = [&column](int64_t cell, double sum, uint32_t bases) {
    column.sum(cell) += sum;
    column.covered(cell) += bases;
  };
  CellSum pending;  // carried across blocks: a cell's contributions are added to it at once
  for (uint32_t j = 0; j < column.n_blocks(); ++j) {
    uint32_t n;
    const Run* runs = column.runs(j, n);
    blocks.begin_block();
    accumulate_window(runs, n, q, window_size, blocks.order, pending, add);
    if (!blocks.end_block(j, column)) return;
  }
  pending.flush(add);
  for (uint32_t i = 0; i < cells; ++i) {
    column.store(i, finalize_window_cell(column.sum(i), column.covered(i), window_size, scale, default_value));
  }
}

}  // namespace bwl::stages
