#pragma once
// A planned batch as the CUDA backend lays it out in device memory (flat arrays, offsets instead
// of pointers between them), and the per-item bodies its kernels run, one thread per item:
//
//   inflate_staged_block  per planned block  staged compressed bytes -> inflated arena
//   count_block_runs      per planned block  decodes, counts the runs the batch keeps
//   (host)                                   learns the counts, checks statuses, scans offsets
//   write_block_runs      per planned block  decodes again, writes the kept runs at its offset
//   prefill_output        per output element the default value (window_size 1)
//   fill_column           per output column  the CPU processor's fill (stages/column_fill.hpp)
//
// Written once for host and device (BWL_HD), so the C++ tests run this exact pipeline on the
// host and compare it with the CPU backend bit for bit. The arithmetic matches the CPU backend
// only when the device compiler does not contract a * b + c into FMA: cuda/ builds with
// --fmad=false.
#include <cstdint>

#include "common/dtype.hpp"
#include "common/hd.hpp"
#include "stages/inflate_status.hpp"
#include "stages/output_store.hpp"
#include "stages/portable_inflate.hpp"
#include "stages/run.hpp"
#include "stages/column_fill.hpp"
#include "stages/section_decode.hpp"
#include "stages/window_fill.hpp"

namespace bwl::stages {

// One planned block as staged: where its stored bytes are, where it inflates to, and what the
// batch keeps of it.
struct DeviceBlock {
  uint64_t in_offset;   // into the staged bytes
  uint64_t out_offset;  // into the inflated arena
  uint32_t in_size;
  uint32_t out_capacity;  // the file's uncompressBufSize
  uint32_t compressed;    // 0: the file stores blocks uncompressed; decode reads the staged bytes
  // 1: a hit of the host's block cache: the staged bytes are the block's decoded runs
  // (in_size / sizeof(Run) of them, at an in_offset aligned for Run); no inflate, no decode.
  uint32_t cached;
  KeepNeededRuns keep;
};

// A cached block's runs, as staged.
BWL_HD inline const Run* staged_runs(const uint8_t* staged, const DeviceBlock& b, uint32_t& n) {
  n = b.in_size / static_cast<uint32_t>(sizeof(Run));
  return reinterpret_cast<const Run*>(staged + b.in_offset);
}

// What the device reports back per block.
struct BlockOutcome {
  uint32_t inflated_bytes;
  uint32_t runs;          // kept runs (count_block_runs)
  uint32_t error_offset;  // DecodeResult::error_offset
  InflateStatus inflate_status;
  DecodeStatus decode_status;
};

// Every array of one staged batch. Plain pointers: in the CUDA backend they are device memory.
struct DeviceBatchView {
  // Blocks: n_blocks of each.
  const DeviceBlock* blocks;
  uint32_t n_blocks;
  const uint8_t* staged;
  uint8_t* inflated;         // the arena: block i inflates to inflated + out_offset - inflated_origin
  uint64_t inflated_origin;  // out_offset of the arena's first byte (a chunk of the batch's blocks)
  BlockOutcome* outcomes;
  const uint64_t* run_offsets;  // exclusive scan of outcomes[].runs
  Run* runs;
  // Columns: n_columns = batch * n_tracks, column c = (window c / n_tracks, track c % n_tracks).
  const ColumnQuery* columns;
  const uint32_t* column_begin;   // n_columns + 1
  const uint32_t* column_blocks;  // indices into blocks
  const float* scales;            // n_tracks
  uint32_t n_columns;
  uint32_t n_tracks;
  uint32_t cells;
  uint32_t window_size;
  float default_value;
  DType dtype;  // of the output: Float32 or BFloat16
  void* out;    // (batch, cells, n_tracks)
  // window_size > 1: per-cell sums and covered bases, [cell * n_columns + column], zeroed.
  double* sums;
  uint32_t* covered;
  // Per column, zeroed: {earlier block, later block + 1} when the column's runs overlap across
  // blocks (stages::RunOrder); the host turns the first such column into an error.
  uint32_t* overlaps;  // 2 * n_columns
};

// The bytes decode reads for block i: inflated, or the staged bytes themselves when stored raw.
BWL_HD inline const uint8_t* block_data(const DeviceBatchView& v, uint32_t i, uint32_t& size) {
  const DeviceBlock& b = v.blocks[i];
  if (b.compressed) {
    size = v.outcomes[i].inflated_bytes;
    return v.inflated + (b.out_offset - v.inflated_origin);
  }
  size = b.in_size;
  return v.staged + b.in_offset;
}

BWL_HD inline void inflate_staged_block(const DeviceBatchView& v, uint32_t i, InflateTables& tables) {
  const DeviceBlock& b = v.blocks[i];
  BlockOutcome& o = v.outcomes[i];
  o.runs = 0;
  o.error_offset = 0;
  o.decode_status = DecodeStatus::Ok;
  if (b.cached || !b.compressed) {
    o.inflated_bytes = b.in_size;
    o.inflate_status = InflateStatus::Ok;
    return;
  }
  const InflateResult r = inflate_zlib_portable(
      v.staged + b.in_offset, b.in_size, v.inflated + (b.out_offset - v.inflated_origin), b.out_capacity, tables);
  o.inflate_status = r.status;
  o.inflated_bytes = r.written;
}

BWL_HD inline void count_block_runs(const DeviceBatchView& v, uint32_t i) {
  BlockOutcome& o = v.outcomes[i];
  if (o.inflate_status != InflateStatus::Ok) return;
  const DeviceBlock& b = v.blocks[i];
  if (b.cached) {
    uint32_t n;
    const Run* runs = staged_runs(v.staged, b, n);
    uint32_t kept = 0;
    for (uint32_t r = 0; r < n; ++r) kept += b.keep(runs[r]) ? 1u : 0u;
    o.runs = kept;
    return;
  }
  uint32_t size;
  const uint8_t* data = block_data(v, i, size);
  const DecodeResult r = count_kept_runs(data, size, v.blocks[i].keep);
  o.decode_status = r.status;
  o.error_offset = r.error_offset;
  o.runs = r.runs;
}

BWL_HD inline void write_block_runs(const DeviceBatchView& v, uint32_t i) {
  const DeviceBlock& b = v.blocks[i];
  if (b.cached) {  // the kept runs, in order, as count_block_runs counted them
    uint32_t n;
    const Run* runs = staged_runs(v.staged, b, n);
    Run* out = v.runs + v.run_offsets[i];
    for (uint32_t r = 0; r < n; ++r) {
      if (b.keep(runs[r])) *out++ = runs[r];
    }
    return;
  }
  uint32_t size;
  const uint8_t* data = block_data(v, i, size);
  decode_block(data, size, v.runs + v.run_offsets[i], v.outcomes[i].runs, v.blocks[i].keep);
}

// Output element e (of batch * cells * n_tracks) gets the default value (window_size 1 only:
// the fill then stores covered bases over it).
BWL_HD inline void prefill_output(const DeviceBatchView& v, uint64_t e) {
  store_output(v.out, e, v.dtype, v.default_value);
}

// Column c of the staged batch as fill_column_cells sees it: its blocks' runs in the run arena,
// cells stored converted straight into the strided output, sums strided by n_columns.
struct DeviceColumn {
  const DeviceBatchView& v;
  uint32_t c;
  uint64_t base;  // output element of cell 0: (w * cells) * n_tracks + k; cell i is base + i * n_tracks

  BWL_HD uint32_t n_blocks() const { return v.column_begin[c + 1] - v.column_begin[c]; }
  BWL_HD const Run* runs(uint32_t j, uint32_t& n) const {
    const uint32_t b = v.column_blocks[v.column_begin[c] + j];
    n = v.outcomes[b].runs;
    return v.runs + v.run_offsets[b];
  }
  BWL_HD void store(int64_t cell, float x) const {
    store_output(v.out, base + static_cast<uint64_t>(cell) * v.n_tracks, v.dtype, x);
  }
  BWL_HD void store_run(int64_t first, int64_t last, float x) const {
    for (int64_t cell = first; cell < last; ++cell) store(cell, x);
  }
  BWL_HD void end_runs(uint32_t) const {}  // the uncovered cells hold the default: prefill_output
  BWL_HD double& sum(int64_t cell) const { return v.sums[c + static_cast<uint64_t>(cell) * v.n_columns]; }
  BWL_HD uint32_t& covered(int64_t cell) const { return v.covered[c + static_cast<uint64_t>(cell) * v.n_columns]; }
  // Reported, and the column left unfinished, since the host refuses the batch
  // (engine::check_column_order).
  BWL_HD void overlap(uint32_t earlier, uint32_t later) const {
    v.overlaps[2 * c] = v.column_blocks[v.column_begin[c] + earlier];
    v.overlaps[2 * c + 1] = v.column_blocks[v.column_begin[c] + later] + 1;
  }
};

BWL_HD inline void fill_column(const DeviceBatchView& v, uint32_t c) {
  const uint32_t w = c / v.n_tracks;
  const uint32_t k = c % v.n_tracks;
  DeviceColumn column{v, c, uint64_t{w} * v.cells * v.n_tracks + k};
  fill_column_cells(v.columns[c], v.scales[k], v.window_size, v.default_value, v.cells, column);
}

}  // namespace bwl::stages
