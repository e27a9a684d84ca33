// libFuzzer target: raw inflated block bytes -> section decode -> the window fill, as both
// backends run them (stages/section_decode.hpp, stages/window_fill.hpp).
//
// Input: 16 bytes of query (window start, clip range, window size, cells), then the block. The
// decode must never read past the block nor write past its capacity; a decoded block (status
// Ok) must fill any in-range query without writing outside its cells, and each window average
// must count at most window_size covered bases (overlapping items are refused by the decode).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/little_endian.hpp"
#include "stages/section_decode.hpp"
#include "stages/window_fill.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bwl::stages;
  constexpr size_t kQueryBytes = 16;
  if (size < kQueryBytes) return 0;
  const int32_t start = static_cast<int32_t>(bwl::load_u32le(data));  // may be negative
  const uint32_t chrom_id = data[4] & 3;
  const uint32_t window_size = 1 + (data[5] % 16);
  const uint32_t cells = 1 + (bwl::load_u16le(data + 6) % 512);
  const uint32_t clip_lo = bwl::load_u32le(data + 8);
  const uint32_t clip_len = bwl::load_u32le(data + 12);
  const uint8_t* block = data + kQueryBytes;
  const auto block_size = static_cast<uint32_t>(size - kQueryBytes);

  // Decode into a buffer of exactly max_runs_in_block: the capacity callers size by.
  const uint32_t capacity = max_runs_in_block(block_size);
  std::vector<Run> runs(capacity);
  const DecodeResult all = decode_block(block, block_size, runs.data(), capacity);
  check(all.status != DecodeStatus::OutputOverflow, "max_runs_in_block was too small");
  check(all.runs <= capacity, "more runs than the capacity");
  if (all.status != DecodeStatus::Ok) {
    check(all.error_offset < block_size, "error offset outside the block");
    return 0;
  }
  // Counting with a filter sees the same block: the same status, and no more runs.
  const KeepNeededRuns keep{false, chrom_id, clip_lo, clip_lo + (clip_len & 0xFFFF)};
  const DecodeResult counted = count_kept_runs(block, block_size, keep);
  check(counted.status == DecodeStatus::Ok && counted.runs <= all.runs, "count_kept_runs disagrees with decode_block");
  // Decoding with the filter keeps exactly the runs the filter accepts of a decode of all (the
  // bedGraph path finds them by binary search, not by asking the filter).
  std::vector<Run> kept(capacity);
  const DecodeResult filtered = decode_block(block, block_size, kept.data(), capacity, keep);
  check(filtered.status == DecodeStatus::Ok && filtered.runs == counted.runs, "a filtered decode disagrees");
  uint32_t j = 0;
  for (uint32_t i = 0; i < all.runs; ++i) {
    if (!keep(runs[i])) continue;
    check(j < filtered.runs && memcmp(&kept[j], &runs[i], sizeof(Run)) == 0, "a filtered decode kept another run");
    ++j;
  }
  check(j == filtered.runs, "a filtered decode kept runs the filter refuses");
  for (uint32_t i = 0; i < all.runs; ++i) check(runs[i].start <= runs[i].end, "a decoded run ends before it starts");

  // The query as the planner makes it: [lo, hi) within the window's whole cells and >= 0.
  const int64_t window_start = start;
  const int64_t window_end = window_start + int64_t{cells} * window_size;
  int64_t lo = std::max<int64_t>({0, window_start, int64_t{clip_lo}});
  int64_t hi = std::min<int64_t>(window_end, int64_t{clip_lo} + clip_len);
  hi = std::min<int64_t>(hi, 0xFFFFFFFFll);
  if (hi < lo) hi = lo;
  const ColumnQuery q{window_start, chrom_id, static_cast<uint32_t>(std::min<int64_t>(lo, 0xFFFFFFFFll)),
                      static_cast<uint32_t>(hi)};

  std::vector<float> single(size_t{cells} * window_size, NAN);
  RunOrder single_order;
  fill_single_base_cells(runs.data(), all.runs, q, 1.0f, single_order, single.data());
  std::vector<double> sums(cells, 0.0);
  std::vector<uint32_t> covered(cells, 0);
  RunOrder window_order;
  accumulate_window_cells(runs.data(), all.runs, q, window_size, window_order, sums.data(), covered.data());
  // Decoding refuses items out of order within a block, so the fill's order check never fires on
  // one block's runs.
  check(!single_order.overlap && !window_order.overlap, "a decoded block's runs overlap");
  for (uint32_t c = 0; c < cells; ++c) {
    check(covered[c] <= window_size, "a cell counts more covered bases than it has (overlapping runs)");
    uint32_t written = 0;
    for (uint32_t b = 0; b < window_size; ++b) written += std::isnan(single[size_t{c} * window_size + b]) ? 0 : 1;
    // Stored NaN values make single-base cells look uncovered; otherwise the counts agree.
    check(written <= covered[c], "single-base and window paths disagree on coverage");
    (void)finalize_window_cell(sums[c], covered[c], window_size, 1.0f, 0.0f);
  }
  return 0;
}
