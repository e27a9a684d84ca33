#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bbi_builder.hpp"
#include "stages/section_decode.hpp"

using namespace bwl::stages;
using namespace bwl::test;

namespace {

std::vector<bwl::stages::Run> decode_ok(const Bytes& block) {
  std::vector<bwl::stages::Run> runs(max_runs_in_block(static_cast<uint32_t>(block.size())) + 1);
  DecodeResult r =
      decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), static_cast<uint32_t>(runs.size()));
  EXPECT_EQ(r.status, DecodeStatus::Ok) << describe(r.status);
  runs.resize(r.runs);
  return runs;
}

DecodeStatus decode_status(const Bytes& block, uint32_t capacity = 1 << 16) {
  std::vector<bwl::stages::Run> runs(capacity);
  return decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), capacity).status;
}

void expect_run(const bwl::stages::Run& r, uint32_t chrom, uint32_t start, uint32_t end, float value) {
  EXPECT_EQ(r.chrom_id, chrom);
  EXPECT_EQ(r.start, start);
  EXPECT_EQ(r.end, end);
  if (std::isnan(value)) {
    EXPECT_TRUE(std::isnan(r.value));
  } else {
    EXPECT_EQ(r.value, value);
  }
}

}  // namespace

TEST(SectionDecode, BedGraphItemsKeepTheirOwnStartsAndEnds) {
  auto runs = decode_ok(bedgraph_section(3, {{10, 20, 1.5f}, {25, 26, -2.0f}, {26, 100, NAN}}));
  ASSERT_EQ(runs.size(), 3u);
  expect_run(runs[0], 3, 10, 20, 1.5f);
  expect_run(runs[1], 3, 25, 26, -2.0f);
  expect_run(runs[2], 3, 26, 100, NAN);
}

TEST(SectionDecode, VariableStepEndsAreStartPlusSpan) {
  auto runs = decode_ok(varstep_section(1, 5, {{0, 0.25f}, {7, 1.0f}, {100, 3.0f}}));
  ASSERT_EQ(runs.size(), 3u);
  expect_run(runs[0], 1, 0, 5, 0.25f);
  expect_run(runs[1], 1, 7, 12, 1.0f);
  expect_run(runs[2], 1, 100, 105, 3.0f);
}

TEST(SectionDecode, FixedStepStartsStepFromTheSectionStart) {
  auto runs = decode_ok(fixedstep_section(0, 11489, 3, 3, {0.5f, -1.0f, 2.0f}));
  ASSERT_EQ(runs.size(), 3u);
  expect_run(runs[0], 0, 11489, 11492, 0.5f);
  expect_run(runs[1], 0, 11492, 11495, -1.0f);
  expect_run(runs[2], 0, 11495, 11498, 2.0f);
}

TEST(SectionDecode, FixedStepWithSpanShorterThanStepLeavesGaps) {
  auto runs = decode_ok(fixedstep_section(2, 100, 10, 2, {1.0f, 2.0f}));
  ASSERT_EQ(runs.size(), 2u);
  expect_run(runs[0], 2, 100, 102, 1.0f);
  expect_run(runs[1], 2, 110, 112, 2.0f);
}

TEST(SectionDecode, SeveralSectionsOfMixedTypesInOneBlockDecodeInOrder) {
  Bytes block = concat({bedgraph_section(0, {{0, 10, 1.0f}}), varstep_section(0, 1, {{20, 2.0f}}),
                        fixedstep_section(1, 5, 5, 5, {3.0f, 4.0f})});
  auto runs = decode_ok(block);
  ASSERT_EQ(runs.size(), 4u);
  expect_run(runs[0], 0, 0, 10, 1.0f);
  expect_run(runs[1], 0, 20, 21, 2.0f);
  expect_run(runs[2], 1, 5, 10, 3.0f);
  expect_run(runs[3], 1, 10, 15, 4.0f);
}

TEST(SectionDecode, AnyItemCountUpTo65535) {
  std::vector<float> values(65535);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  auto runs = decode_ok(fixedstep_section(0, 0, 1, 1, values));
  ASSERT_EQ(runs.size(), 65535u);
  expect_run(runs[65534], 0, 65534, 65535, 65534.0f);
}

TEST(SectionDecode, EmptyBlockAndEmptySectionGiveNoRuns) {
  EXPECT_TRUE(decode_ok(Bytes{}).empty());
  EXPECT_TRUE(decode_ok(bedgraph_section(0, {})).empty());
}

TEST(SectionDecode, TruncatedSectionHeaderIsReported) {
  Bytes block = bedgraph_section(0, {{0, 1, 1.0f}});
  block.resize(20);
  EXPECT_EQ(decode_status(block), DecodeStatus::TruncatedSection);
}

TEST(SectionDecode, ItemCountLargerThanTheBytesPresentIsReported) {
  Bytes block = bedgraph_section(0, {{0, 1, 1.0f}, {1, 2, 2.0f}});
  block.resize(block.size() - 1);
  EXPECT_EQ(decode_status(block), DecodeStatus::TruncatedSection);
}

TEST(SectionDecode, TrailingBytesAfterTheLastSectionAreReported) {
  Bytes block = concat({bedgraph_section(0, {{0, 1, 1.0f}}), Bytes(5, 0)});
  EXPECT_EQ(decode_status(block), DecodeStatus::TruncatedSection);
}

TEST(SectionDecode, UnknownSectionTypeIsReported) {
  Bytes block = bedgraph_section(0, {{0, 1, 1.0f}});
  block[20] = 7;
  std::vector<bwl::stages::Run> runs(8);
  DecodeResult r = decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), 8);
  EXPECT_EQ(r.status, DecodeStatus::BadSectionType);
  EXPECT_EQ(r.error_offset, 0u);
}

TEST(SectionDecode, ErrorOffsetPointsAtTheFailingSection) {
  Bytes first = bedgraph_section(0, {{0, 1, 1.0f}});
  Bytes second = bedgraph_section(0, {{5, 6, 1.0f}});
  second[20] = 0;
  Bytes block = concat({first, second});
  std::vector<bwl::stages::Run> runs(8);
  DecodeResult r = decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), 8);
  EXPECT_EQ(r.status, DecodeStatus::BadSectionType);
  EXPECT_EQ(r.error_offset, first.size());
  EXPECT_EQ(r.runs, 1u);
}

TEST(SectionDecode, BedGraphItemEndingBeforeItStartsIsReported) {
  EXPECT_EQ(decode_status(bedgraph_section(0, {{10, 5, 1.0f}})), DecodeStatus::BadInterval);
}

TEST(SectionDecode, CoordinatesPast4GiBAreReported) {
  EXPECT_EQ(decode_status(varstep_section(0, 10, {{0xFFFFFFFAu, 1.0f}})), DecodeStatus::BadInterval);
  EXPECT_EQ(decode_status(fixedstep_section(0, 0xFFFFFF00u, 0x100, 1, {1.0f, 2.0f})), DecodeStatus::BadInterval);
}

TEST(SectionDecode, NeverWritesPastTheCapacity) {
  Bytes block = bedgraph_section(0, {{0, 1, 1.0f}, {1, 2, 2.0f}, {2, 3, 3.0f}});
  std::vector<bwl::stages::Run> runs(4, bwl::stages::Run{99, 99, 99, 99.0f});
  DecodeResult r = decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), 2);
  EXPECT_EQ(r.status, DecodeStatus::OutputOverflow);
  EXPECT_EQ(runs[2].chrom_id, 99u);
}

TEST(SectionDecode, MaxRunsInBlockBoundsEverySectionType) {
  // 1000 one-base items back to back (items may not overlap: OverlappingItems).
  std::vector<VarStepItem> var_items;
  std::vector<BedGraphItem> bed_items;
  for (uint32_t i = 0; i < 1000; ++i) {
    var_items.push_back(VarStepItem{i, 1.0f});
    bed_items.push_back(BedGraphItem{i, i + 1, 1.0f});
  }
  for (const Bytes& block : {fixedstep_section(0, 0, 1, 1, std::vector<float>(1000, 1.0f)),
                             varstep_section(0, 1, var_items), bedgraph_section(0, bed_items)}) {
    const uint32_t cap = max_runs_in_block(static_cast<uint32_t>(block.size()));
    EXPECT_GE(cap, 1000u);
    EXPECT_EQ(decode_status(block, cap), DecodeStatus::Ok);
  }
}

TEST(SectionDecode, FilterKeepsOnlyNeededRunsButChecksEveryItem) {
  Bytes block = concat(
      {bedgraph_section(0, {{0, 10, 1.0f}, {10, 20, 2.0f}, {20, 30, 3.0f}}), bedgraph_section(1, {{12, 18, 9.0f}})});
  std::vector<bwl::stages::Run> runs(8);
  DecodeResult r =
      decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), 8, KeepNeededRuns{false, 0, 15, 21});
  ASSERT_EQ(r.status, DecodeStatus::Ok);
  ASSERT_EQ(r.runs, 2u);
  expect_run(runs[0], 0, 10, 20, 2.0f);
  expect_run(runs[1], 0, 20, 30, 3.0f);
  EXPECT_EQ(
      decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), 8, KeepNeededRuns{true, 0, 0, 0})
          .runs,
      4u);
  Bytes bad = bedgraph_section(0, {{0, 10, 1.0f}, {50, 40, 2.0f}});
  EXPECT_EQ(decode_block(bad.data(), static_cast<uint32_t>(bad.size()), runs.data(), 8, KeepNeededRuns{false, 0, 0, 5})
                .status,
            DecodeStatus::BadInterval)
      << "an item outside the needed range is still checked";
}

TEST(SectionDecode, CountItemsIsWhatADecodeOfEveryRunWrites) {
  // The cache decodes a block into an entry of exactly count_items runs.
  const Bytes blocks[] = {
      Bytes{},
      bedgraph_section(0, {}),
      bedgraph_section(0, {{0, 10, 1.0f}, {10, 20, 2.0f}, {30, 30, 3.0f}}),
      concat({bedgraph_section(0, {{0, 10, 1.0f}}), varstep_section(0, 1, {{20, 2.0f}, {22, 3.0f}}),
              fixedstep_section(1, 5, 5, 5, {3.0f, 4.0f, 5.0f})}),
  };
  for (const Bytes& block : blocks) {
    EXPECT_EQ(count_items(block.data(), static_cast<uint32_t>(block.size())), decode_ok(block).size());
  }
  // Where the headers do not add up, the bound of any block of that size: the decode reports why.
  Bytes truncated = bedgraph_section(0, {{0, 1, 1.0f}, {1, 2, 2.0f}});
  truncated.resize(truncated.size() - 1);
  Bytes trailing = concat({bedgraph_section(0, {{0, 1, 1.0f}}), Bytes(5, 0)});
  Bytes unknown = bedgraph_section(0, {{0, 1, 1.0f}});
  unknown[20] = 7;
  for (const Bytes& block : {truncated, trailing, unknown}) {
    const auto size = static_cast<uint32_t>(block.size());
    EXPECT_EQ(count_items(block.data(), size), max_runs_in_block(size));
  }
}
