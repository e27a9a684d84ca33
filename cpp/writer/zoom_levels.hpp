#pragma once
// Zoom levels as UCSC's bedGraphToBigWig makes them (its reduction scheme, reimplemented from
// the format's documentation and the tool's behaviour):
//
//  1. Candidate reductions: r0 = max(10, average item length), then r0 * 4^i, up to 10 of them
//     (fewer when they pass 10^9 bases).
//  2. For each candidate, the number of summaries it would make (ResolutionCounter, fed every
//     item in order; a summary starts at the first item past the previous one's end, so the
//     grid follows the data, not base 0).
//  3. The first level is the first candidate whose summaries would take at most half the
//     bytes of the data (compressed summaries counted at half size), or r0 if none does.
//     A file with fixedStep sections picks it as wigToBigWig does instead (wig_initial_reduction);
//     bedGraphToBigWig's rule would give per-base fixedStep data a 10-base first level about
//     half as large as the data itself.
//  4. Level 0 is made from the items (Level0Summarizer); each further level merges the one
//     below, reduction x4 (reduce_summaries), while that still shrinks the count, up to 10.
//
// A summary covers [start, end) of one chromosome with validCount bases of data and min, max,
// sum and sum of squares of their values (weighted by bases). Sums are accumulated in double
// and stored as float32, as the format requires.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "format/zoom_record.hpp"

namespace bwl::writer {

constexpr int kMaxZoomLevels = 10;
constexpr uint32_t kZoomIncrement = 4;
using format::kZoomRecordBytes;  // the record's layout: format/zoom_record.hpp

struct Summary {
  uint32_t chrom_id;
  uint32_t start;
  uint32_t end;
  uint32_t valid_count;
  double min_value;
  double max_value;
  double sum;
  double sum_squares;
};

struct ReductionCandidates {
  std::array<uint32_t, kMaxZoomLevels> scale{};
  int count = 0;
};

ReductionCandidates reduction_candidates(uint64_t total_bases, uint64_t item_count);

// Counts the summaries each candidate reduction would produce. Feed items in file order.
class ResolutionCounter {
 public:
  explicit ResolutionCounter(const ReductionCandidates& c) : c_(c) {}
  void add(uint32_t chrom_id, uint32_t start, uint32_t end);
  uint64_t count(int i) const { return counts_[i]; }

 private:
  ReductionCandidates c_;
  std::array<uint64_t, kMaxZoomLevels> counts_{};
  std::array<uint64_t, kMaxZoomLevels> ends_{};
  uint32_t chrom_ = UINT32_MAX;
};

// Index into `c` of the first zoom level (step 3 above).
int choose_initial_reduction(const ReductionCandidates& c, const ResolutionCounter& counts, uint64_t data_bytes);

// The first zoom level as UCSC's wigToBigWig (the tool that writes fixedStep sections) picks it,
// used instead of step 3 when a file holds fixedStep sections: start at 10 x the average
// section resolution, and while the summaries (counted at 64 bytes each: 32 on disk, doubled
// because they compress worse than the data) take half the uncompressed data or more, grow the
// reduction by the factor it missed by, plus 10%, and at least 2x. `count(r)` returns how
// many summaries reduction r makes.
template <typename Count>
uint32_t wig_initial_reduction(uint64_t average_resolution, uint64_t uncompressed_data_bytes, Count&& count) {
  const uint64_t max_reduced = uncompressed_data_bytes / 2;
  uint64_t r = 10 * std::max<uint64_t>(1, average_resolution);
  uint64_t last = 0;
  for (int round = 0; round < 64 && r <= 1000000000; ++round) {
    const uint64_t size = count(static_cast<uint32_t>(r)) * kZoomRecordBytes * 2;
    if (size < max_reduced || size == last) break;
    last = size;
    const auto scaled = static_cast<uint64_t>(1.1 * static_cast<double>(r) * static_cast<double>(size) /
                                              static_cast<double>(std::max<uint64_t>(1, max_reduced)));
    r = std::max(2 * r, scaled);
  }
  return static_cast<uint32_t>(std::min<uint64_t>(r, UINT32_MAX));
}

// Turns items (in file order) into level-0 summaries of `reduction` bases, each clipped to its
// chromosome's end, handing each finished one to `emit`.
class Level0Summarizer {
 public:
  Level0Summarizer(uint32_t reduction, const std::vector<uint32_t>& chrom_sizes_by_id)
      : reduction_(reduction), sizes_(chrom_sizes_by_id) {}
  template <typename Emit>
  void add(uint32_t chrom_id, uint32_t start, uint32_t end, float value, Emit&& emit);
  template <typename Emit>
  void finish(Emit&& emit) {
    if (open_) emit(cur_);
    open_ = false;
  }

 private:
  void open(uint32_t chrom_id, uint32_t start, float value);
  void fold(float value, uint32_t bases) {
    cur_.valid_count += bases;
    cur_.min_value = std::min<double>(cur_.min_value, value);
    cur_.max_value = std::max<double>(cur_.max_value, value);
    cur_.sum += double{value} * bases;
    cur_.sum_squares += double{value} * value * bases;
  }

  uint32_t reduction_;
  const std::vector<uint32_t>& sizes_;
  Summary cur_{};
  bool open_ = false;
};

// Merges runs of `in` (sorted) into summaries of at most `reduction` bases, as UCSC does for
// every level after the first: a summary grows while the next one ends within `reduction`
// bases of its start.
std::vector<Summary> reduce_summaries(const std::vector<Summary>& in, uint64_t reduction);

// Appends `s` to `out`, merging it into the last summary when that one can reach s.end within
// `reduction` bases (the same rule, applied as level-0 summaries stream past).
void fold_into(std::vector<Summary>& out, const Summary& s, uint64_t reduction);

// --- template implementation -----------------------------------------------------------------

inline void Level0Summarizer::open(uint32_t chrom_id, uint32_t start, float value) {
  const uint64_t end = std::min<uint64_t>(uint64_t{start} + reduction_, sizes_[chrom_id]);
  cur_ = Summary{chrom_id, start, static_cast<uint32_t>(end), 0, value, value, 0.0, 0.0};
  open_ = true;
}

template <typename Emit>
void Level0Summarizer::add(uint32_t chrom_id, uint32_t start, uint32_t end, float value, Emit&& emit) {
  if (open_ && (cur_.chrom_id != chrom_id || cur_.end <= start)) {
    emit(cur_);
    open_ = false;
  }
  if (!open_) open(chrom_id, start, value);
  // An item longer than what is left of the summary fills it and opens the next, which starts
  // where this one ends (the data's own grid), until the item fits.
  while (end > cur_.end) {
    fold(value, cur_.end - start);
    emit(cur_);
    start = cur_.end;
    open(chrom_id, start, value);
  }
  fold(value, end - start);
}

}  // namespace bwl::writer
