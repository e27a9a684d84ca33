#pragma once
// Writing decoded runs into output values: pure functions, host and device (BWL_HD).
#include <cstdint>

#include "common/hd.hpp"
#include "stages/run.hpp"

namespace bwl::stages {

// Writes each run of chromosome `chrom_id` that overlaps [start, end) into out[0, end - start),
// base by base, clipped to the range. Runs are applied in order, so where runs overlap (which
// no valid file has) the later one wins, as in libBigWig. Bases no run covers are untouched:
// the caller fills them with the default value first.
BWL_HD inline void fill_bases(const Run* runs, uint32_t n_runs, uint32_t chrom_id, uint32_t start, uint32_t end,
                              float* out) {
  for (uint32_t r = 0; r < n_runs; ++r) {
    const Run run = runs[r];
    if (run.chrom_id != chrom_id || run.end <= start || run.start >= end) continue;
    const uint32_t from = run.start > start ? run.start : start;
    const uint32_t to = run.end < end ? run.end : end;
    for (uint32_t b = from; b < to; ++b) out[b - start] = run.value;
  }
}

}  // namespace bwl::stages
