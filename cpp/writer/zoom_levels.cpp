#include "writer/zoom_levels.hpp"

#include <algorithm>

namespace bwl::writer {

ReductionCandidates reduction_candidates(uint64_t total_bases, uint64_t item_count) {
  constexpr uint64_t kMinReduction = 10;
  constexpr uint64_t kLargestStart = 1000000000;  // past this, UCSC stops adding candidates
  ReductionCandidates c;
  uint64_t res = item_count == 0 ? kMinReduction : std::max<uint64_t>(kMinReduction, total_bases / item_count);
  for (int i = 0; i < kMaxZoomLevels; ++i) {
    c.scale[i] = static_cast<uint32_t>(std::min<uint64_t>(res, UINT32_MAX));
    c.count = i + 1;
    if (res > kLargestStart) break;
    res *= kZoomIncrement;
  }
  return c;
}

void ResolutionCounter::add(uint32_t chrom_id, uint32_t start, uint32_t end) {
  if (chrom_id != chrom_) {
    ends_.fill(0);
    chrom_ = chrom_id;
  }
  for (int i = 0; i < c_.count; ++i) {
    uint64_t res_end = ends_[i];
    if (start >= res_end) {
      ++counts_[i];
      res_end = uint64_t{start} + c_.scale[i];
    }
    if (end > res_end) {
      // As many more summaries as it takes to reach `end`.
      const uint64_t more = (end - res_end + c_.scale[i] - 1) / c_.scale[i];
      counts_[i] += more;
      res_end += more * c_.scale[i];
    }
    ends_[i] = res_end;
  }
}

int choose_initial_reduction(const ReductionCandidates& c, const ResolutionCounter& counts, uint64_t data_bytes) {
  const uint64_t max_reduced = data_bytes / 2;
  for (int i = 0; i < c.count; ++i) {
    const uint64_t reduced = counts.count(i) * kZoomRecordBytes / 2;  // compressed: UCSC's estimate
    if (reduced <= max_reduced) return i;
  }
  return 0;
}

void fold_into(std::vector<Summary>& out, const Summary& s, uint64_t reduction) {
  if (!out.empty()) {
    Summary& last = out.back();
    if (last.chrom_id == s.chrom_id && uint64_t{last.start} + reduction >= s.end) {
      last.end = s.end;
      last.valid_count += s.valid_count;
      last.min_value = std::min(last.min_value, s.min_value);
      last.max_value = std::max(last.max_value, s.max_value);
      last.sum += s.sum;
      last.sum_squares += s.sum_squares;
      return;
    }
  }
  out.push_back(s);
}

std::vector<Summary> reduce_summaries(const std::vector<Summary>& in, uint64_t reduction) {
  std::vector<Summary> out;
  for (const Summary& s : in) fold_into(out, s, reduction);
  return out;
}

}  // namespace bwl::writer
