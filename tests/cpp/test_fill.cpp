#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stages/window_fill.hpp"

namespace {
// Fills out[0, end - start) from runs of `chrom` clipped to [start, end), unscaled.
void fill_bases(const bwl::stages::Run* runs, uint32_t n, uint32_t chrom, uint32_t start, uint32_t end, float* out) {
  bwl::stages::RunOrder order;
  bwl::stages::fill_single_base_cells(runs, n, bwl::stages::ColumnQuery{start, chrom, start, end}, 1.0f, order, out);
}
}  // namespace

TEST(FillBases, ClipsRunsToTheRangeAndLeavesUncoveredBasesAlone) {
  const std::vector<bwl::stages::Run> runs = {{0, 5, 12, 1.0f}, {0, 14, 30, 2.0f}};
  std::vector<float> out(10, -9.0f);  // bases [8, 18)
  fill_bases(runs.data(), 2, 0, 8, 18, out.data());
  const std::vector<float> expected = {1, 1, 1, 1, -9, -9, 2, 2, 2, 2};
  EXPECT_EQ(out, expected);
}

TEST(FillBases, IgnoresOtherChromosomesAndRunsOutsideTheRange) {
  const std::vector<bwl::stages::Run> runs = {{1, 0, 100, 5.0f}, {0, 0, 8, 1.0f}, {0, 18, 20, 1.0f}};
  std::vector<float> out(10, 0.0f);
  fill_bases(runs.data(), 3, 0, 8, 18, out.data());
  EXPECT_EQ(out, std::vector<float>(10, 0.0f));
}

TEST(FillBases, LaterRunsWinWhereRunsOverlap) {
  const std::vector<bwl::stages::Run> runs = {{0, 0, 10, 1.0f}, {0, 4, 6, 2.0f}};
  std::vector<float> out(10, 0.0f);
  fill_bases(runs.data(), 2, 0, 0, 10, out.data());
  const std::vector<float> expected = {1, 1, 1, 1, 2, 2, 1, 1, 1, 1};
  EXPECT_EQ(out, expected);
}

TEST(FillBases, StoredNaNIsWrittenAsNaN) {
  const std::vector<bwl::stages::Run> runs = {{0, 0, 2, NAN}};
  std::vector<float> out(3, 0.0f);
  fill_bases(runs.data(), 1, 0, 0, 3, out.data());
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1]));
  EXPECT_EQ(out[2], 0.0f);
}
