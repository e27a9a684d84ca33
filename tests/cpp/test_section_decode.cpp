#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
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

namespace {

// What decoding a bedGraph-only block means, item by item, written independently of
// decode_sections (whose bedGraph path checks a section's order in one pass, then copies the
// kept stretch found by binary search): the expected status, error offset and kept runs.
struct Expected {
  DecodeStatus status = DecodeStatus::Ok;
  uint32_t error_offset = 0;
  std::vector<bwl::stages::Run> kept;
};

struct Section {
  uint32_t chrom;
  std::vector<BedGraphItem> items;
};

Expected reference_decode(const std::vector<Section>& sections, const KeepNeededRuns& keep, uint32_t capacity) {
  Expected e;
  uint32_t offset = 0;
  bool have_previous = false;
  uint32_t previous_chrom = 0, previous_end = 0;
  for (const Section& s : sections) {
    for (const BedGraphItem& it : s.items) {
      const bool back = have_previous && s.chrom < previous_chrom;
      if (!have_previous || s.chrom > previous_chrom) previous_end = 0;
      have_previous = true;
      previous_chrom = std::max(previous_chrom, s.chrom);
      if (it.end < it.start) return {DecodeStatus::BadInterval, offset, e.kept};
      if (back || it.start < previous_end) return {DecodeStatus::OverlappingItems, offset, e.kept};
      previous_end = std::max(previous_end, it.end);
      const bwl::stages::Run run{s.chrom, it.start, it.end, it.value};
      if (keep(run)) {
        if (e.kept.size() == capacity) {
          // The rest of the section is still checked before the overflow is reported.
          e.status = DecodeStatus::OutputOverflow;
          e.error_offset = offset;
        } else if (e.status == DecodeStatus::Ok) {
          e.kept.push_back(run);
        }
      }
    }
    if (e.status == DecodeStatus::OutputOverflow) return e;
    offset += kSectionHeaderBytes + kBedGraphItemBytes * static_cast<uint32_t>(s.items.size());
  }
  return e;
}

}  // namespace

TEST(SectionDecode, BedGraphSectionsDecodeAsTheItemByItemDefinitionSays) {
  // Random blocks of ordered items (empty items, touching items, gaps, several sections and
  // chromosomes, counts around the four-item groups of the host's vector check), some broken at
  // one item, decoded with random filters and capacities: status, error offset and kept runs all
  // as the definition gives them.
  std::mt19937 rng(20261206);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  for (int trial = 0; trial < 4000; ++trial) {
    // Coordinates near 0, across 2^31 (the vector check compares unsigned values as signed ones
    // with the top bit flipped) and near 2^32.
    const uint32_t base = std::array<uint32_t, 3>{0, 0x7FFFF000u, 0xFFFF0000u}[pick(3)];
    std::vector<Section> sections(1 + pick(3));
    uint32_t chrom = pick(3);
    for (Section& s : sections) {
      chrom += pick(3) == 0 ? 1 : 0;
      s.chrom = chrom;
      uint32_t at = base + pick(50);
      const uint32_t n = pick(4) == 0 ? pick(3) : pick(40);
      for (uint32_t i = 0; i < n; ++i) {
        at += pick(3) == 0 ? 0 : pick(20);
        const uint32_t len = pick(5) == 0 ? 0 : 1 + pick(30);
        s.items.push_back(BedGraphItem{at, at + len, static_cast<float>(pick(1000)) * 0.5f});
        at += len;
      }
    }
    if (pick(3) == 0) {
      // Break one item: end before start, start before the previous end (anywhere, or one base
      // before it), or a section moved to an earlier chromosome.
      Section& s = sections[pick(static_cast<uint32_t>(sections.size()))];
      if (!s.items.empty()) {
        const uint32_t k = pick(static_cast<uint32_t>(s.items.size()));
        BedGraphItem& it = s.items[k];
        switch (pick(4)) {
          case 0: it.end = it.start == 0 ? 0 : it.start - 1 - pick(it.start); break;
          case 1: it.start = it.start == 0 ? 0 : pick(it.start); break;
          case 2:
            if (k > 0 && s.items[k - 1].end > 0) {
              it.start = s.items[k - 1].end - 1;
              it.end = std::max(it.end, it.start);
            }
            break;
          default: s.chrom = s.chrom == 0 ? 0 : s.chrom - 1;
        }
      }
    }
    Bytes block;
    for (const Section& s : sections) {
      const Bytes b = bedgraph_section(s.chrom, s.items);
      block.insert(block.end(), b.begin(), b.end());
    }
    const uint32_t lo = base + pick(600);
    const KeepNeededRuns keep{pick(8) == 0, pick(4), lo, pick(4) == 0 ? lo - std::min(lo, pick(20)) : lo + pick(300)};
    const uint32_t capacity = pick(4) == 0 ? pick(20) : 1000;
    const Expected e = reference_decode(sections, keep, capacity);
    std::vector<bwl::stages::Run> runs(capacity + 1, bwl::stages::Run{7, 7, 7, 7.0f});
    const DecodeResult r = decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(), capacity, keep);
    ASSERT_EQ(r.status, e.status) << "trial " << trial << ": " << describe(r.status) << " / " << describe(e.status);
    ASSERT_EQ(r.runs, e.kept.size()) << "trial " << trial;
    EXPECT_EQ(runs[capacity].chrom_id, 7u) << "trial " << trial << ": written past the capacity";
    if (r.status != DecodeStatus::Ok) {
      EXPECT_EQ(r.error_offset, e.error_offset) << "trial " << trial;
      if (r.status != DecodeStatus::OutputOverflow) continue;  // what an overlap leaves in `runs` is not promised
    }
    for (size_t i = 0; i < e.kept.size(); ++i) {
      ASSERT_EQ(runs[i].chrom_id, e.kept[i].chrom_id) << "trial " << trial << " run " << i;
      ASSERT_EQ(runs[i].start, e.kept[i].start) << "trial " << trial << " run " << i;
      ASSERT_EQ(runs[i].end, e.kept[i].end) << "trial " << trial << " run " << i;
      ASSERT_EQ(runs[i].value, e.kept[i].value) << "trial " << trial << " run " << i;
    }
    // Counting sees the same block, and KeepAllRuns keeps every item of a sound one.
    const DecodeResult counted = count_kept_runs(block.data(), static_cast<uint32_t>(block.size()), keep);
    if (e.status != DecodeStatus::OutputOverflow) {
      EXPECT_EQ(counted.status, e.status);
      EXPECT_EQ(counted.runs, e.kept.size());
    }
  }
}
