// The writer's parts on their own: the zoom reduction rules on hand-computed cases, and a
// written file read back by this library's reader (many chromosomes, so both indexes get an
// internal level). The Python tests read written files with pyBigWig and pybigtools too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "format/bigwig_file.hpp"
#include "format/block_reader.hpp"
#include "writer/bigwig_writer.hpp"
#include "writer/zoom_levels.hpp"

using namespace bwl;
using namespace bwl::writer;

namespace {

std::string temp_path(const std::string& stem) {
  const char* t = std::getenv("TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + stem + "_" + std::to_string(::getpid()) + ".bw";
}

}  // namespace

TEST(ZoomLevels, CandidatesStartAtTheAverageItemLengthOrTen) {
  const ReductionCandidates small = reduction_candidates(1000, 1000);  // average 1 base
  EXPECT_EQ(small.count, 10);
  EXPECT_EQ(small.scale[0], 10u);
  EXPECT_EQ(small.scale[9], 10u * 262144u);
  const ReductionCandidates wide = reduction_candidates(500'000'000, 1);  // average 5e8 bases
  EXPECT_EQ(wide.count, 2);                                               // 5e8, then 2e9 (past 1e9: the last)
  EXPECT_EQ(wide.scale[1], 2'000'000'000u);
}

TEST(ZoomLevels, CounterStartsSummariesAtTheDataNotAtBaseZero) {
  ReductionCandidates c;
  c.scale[0] = 10;
  c.count = 1;
  ResolutionCounter counter(c);
  counter.add(0, 5, 7);      // opens [5, 15)
  counter.add(0, 14, 30);    // reaches into [15, 25) and [25, 35)
  counter.add(0, 100, 101);  // a new summary at 100
  counter.add(1, 0, 1);      // a new chromosome starts afresh
  EXPECT_EQ(counter.count(0), 5u);
}

TEST(ZoomLevels, Level0SplitsLongItemsAndClipsAtTheChromosomeEnd) {
  std::vector<uint32_t> sizes{25};
  Level0Summarizer s(10, sizes);
  std::vector<Summary> out;
  auto emit = [&](const Summary& x) { out.push_back(x); };
  s.add(0, 2, 4, 1.0f, emit);   // [2, 12)
  s.add(0, 6, 25, 3.0f, emit);  // fills [2, 12), then [12, 22), then [22, 25) (clipped)
  s.finish(emit);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].start, 2u);
  EXPECT_EQ(out[0].end, 12u);
  EXPECT_EQ(out[0].valid_count, 2u + 6u);
  EXPECT_DOUBLE_EQ(out[0].sum, 2 * 1.0 + 6 * 3.0);
  EXPECT_DOUBLE_EQ(out[0].min_value, 1.0);
  EXPECT_EQ(out[1].start, 12u);
  EXPECT_EQ(out[1].end, 22u);
  EXPECT_EQ(out[2].start, 22u);
  EXPECT_EQ(out[2].end, 25u);
  EXPECT_EQ(out[2].valid_count, 3u);
}

TEST(ZoomLevels, ReduceMergesWhileTheEndIsWithinReach) {
  std::vector<Summary> in{{0, 0, 10, 10, 1, 1, 10, 10},
                          {0, 10, 20, 10, 2, 2, 20, 40},
                          {0, 30, 40, 10, 3, 3, 30, 90},
                          {0, 40, 50, 10, 4, 4, 40, 160},
                          {1, 0, 5, 5, 5, 5, 25, 125}};
  const std::vector<Summary> out = reduce_summaries(in, 40);
  ASSERT_EQ(out.size(), 3u);  // [0, 40), [40, 50), and chromosome 1
  EXPECT_EQ(out[0].end, 40u);
  EXPECT_EQ(out[0].valid_count, 30u);
  EXPECT_DOUBLE_EQ(out[0].max_value, 3);
  EXPECT_DOUBLE_EQ(out[0].sum_squares, 140);
  EXPECT_EQ(out[1].start, 40u);
  EXPECT_EQ(out[2].chrom_id, 1u);
}

TEST(ZoomLevels, WigRuleGrowsTheReductionByWhatItMissedBy) {
  // 1,000,000 bases of per-base data: count(r) = 1e6 / r summaries.
  auto count = [](uint32_t r) { return uint64_t{1'000'000} / r; };
  // 10 -> 6.4 MB against 2 MB allowed: 1.1 * 10 * 3.2 = 35 -> 1.83 MB fits.
  EXPECT_EQ(wig_initial_reduction(1, 4'000'000, count), 35u);
  // Already small enough at 10 x the resolution.
  EXPECT_EQ(wig_initial_reduction(100, 4'000'000, count), 1000u);
}

TEST(BigWigWriter, WritesAFileTheReaderReadsBack) {
  const std::string path = temp_path("bwl_writer_roundtrip");
  std::vector<std::pair<std::string, int64_t>> chroms;
  for (int i = 0; i < 600; ++i) chroms.emplace_back("chr" + std::to_string(i), 10'000 + i);
  {
    BigWigWriter w(path, chroms, WriterOptions{});
    for (int i = 599; i >= 0; i -= 2) {  // every other chromosome, in reverse order
      const std::string name = "chr" + std::to_string(i);
      std::vector<int64_t> s{0, 100, 5000}, e{10, 200, 10'000 + i};
      std::vector<float> v{float(i), NAN, -1.5f};
      w.add_intervals(name, s.data(), e.data(), v.data(), s.size());
    }
    std::vector<float> dense(3000, 2.0f);
    dense[1500] = 7.0f;
    // chr1, written last, already holds data up to 10,001: values from 20 are refused, adding nothing.
    EXPECT_THROW(w.add_values("chr1", 20, dense.data(), dense.size(), 1, 1, false), InvalidArgument);
    w.close();
  }
  format::BigWigFile f(path);
  ASSERT_EQ(f.chroms().size(), 600u);
  EXPECT_EQ(f.header().version, 4);
  EXPECT_GE(f.header().zoom_levels, 1);
  for (int i = 0; i < 600; ++i) {
    const size_t ci = f.chrom_index("chr" + std::to_string(i));
    EXPECT_EQ(f.chroms()[ci].size, uint32_t(10'000 + i));
    const auto runs = f.intervals(ci, 0, 10'000 + i, format::thread_block_scratch());
    if (i % 2 == 0) {
      EXPECT_TRUE(runs.empty()) << i;
      continue;
    }
    ASSERT_EQ(runs.size(), 2u) << i;  // the NaN item is skipped
    EXPECT_EQ(runs[0].end, 10u);
    EXPECT_EQ(runs[0].value, float(i));
    EXPECT_EQ(runs[1].start, 5000u);
    EXPECT_EQ(runs[1].end, uint32_t(10'000 + i));
  }
  std::remove(path.c_str());
}

TEST(BigWigWriter, AnUnclosedWriterLeavesNoFile) {
  const std::string path = temp_path("bwl_writer_unclosed");
  {
    BigWigWriter w(path, {{"chr1", 100}}, WriterOptions{});
    std::vector<int64_t> s{0}, e{10};
    std::vector<float> v{1};
    w.add_intervals("chr1", s.data(), e.data(), v.data(), 1);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}
