// Overlapping data items (a corrupt file: no valid writer makes them). Decoding refuses them
// within a block (stages/section_decode.hpp) and the fill across blocks (stages::RunOrder), so
// every path answers the same: a FormatError naming the file and the block's byte offset (both
// blocks' across blocks), for single bases and window averages alike, and `validate`'s survey
// reports the overlap at that offset. Before, window averages came out near 8.6e8 (a
// covered-base count wrapped), then, across blocks, summed both items, while single bases read
// the later item.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "format/bigwig_file.hpp"
#include "format/block_survey.hpp"
#include "stages/section_decode.hpp"
#include "stages/window_fill.hpp"

using namespace bwl::test;
using bwl::stages::DecodeStatus;

namespace {

DecodeStatus status_of(const Bytes& block) {
  std::vector<bwl::stages::Run> runs(bwl::stages::max_runs_in_block(static_cast<uint32_t>(block.size())));
  return bwl::stages::decode_block(block.data(), static_cast<uint32_t>(block.size()), runs.data(),
                                   static_cast<uint32_t>(runs.size()))
      .status;
}

// chr1: block 0 holds bedGraph [0, 100) = 1 then [50, 60) = 5: overlapping.
FileSpec overlapping_spec() {
  FileSpec s;
  s.chroms = {{"chr1", 1000}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 100, 1.0f}, {50, 60, 5.0f}}), 0, 0, 0, 100});
  s.blocks.push_back(Block{bedgraph_section(0, {{200, 300, 2.0f}}), 0, 200, 0, 300});
  return s;
}

std::vector<float> batch(const bwl::engine::Collection& collection, uint32_t window_size) {
  bwl::engine::BatchRequest r;
  r.chroms = {0};
  r.starts = {0};
  r.length = 128;
  r.window_size = window_size;
  r.tracks = {0};
  r.scales = {1.0f};
  const auto plan = bwl::engine::plan_batch(collection, r);
  std::vector<float> out(plan.cells);
  bwl::cpu::CpuBatchProcessor(1).load(collection, r, out.data());
  return out;
}

bool mentions(const std::string& message, const std::string& what) { return message.find(what) != std::string::npos; }

}  // namespace

TEST(OverlappingItems, DecodeRefusesThemInEverySectionType) {
  EXPECT_EQ(status_of(bedgraph_section(0, {{0, 100, 1.0f}, {50, 60, 5.0f}})), DecodeStatus::OverlappingItems);
  EXPECT_EQ(status_of(bedgraph_section(0, {{10, 20, 1.0f}, {5, 8, 5.0f}})), DecodeStatus::OverlappingItems)
      << "an item before the previous one";
  EXPECT_EQ(status_of(varstep_section(0, 10, {{0, 1.0f}, {5, 2.0f}})), DecodeStatus::OverlappingItems);
  EXPECT_EQ(status_of(fixedstep_section(0, 0, 5, 10, {1.0f, 2.0f})), DecodeStatus::OverlappingItems)
      << "span longer than step";
  EXPECT_EQ(status_of(concat({bedgraph_section(0, {{0, 100, 1.0f}}), bedgraph_section(0, {{90, 95, 2.0f}})})),
            DecodeStatus::OverlappingItems)
      << "across sections of one block";
  EXPECT_EQ(status_of(concat({bedgraph_section(1, {{0, 10, 1.0f}}), bedgraph_section(0, {{0, 10, 2.0f}})})),
            DecodeStatus::OverlappingItems)
      << "back to an earlier chromosome";
}

TEST(OverlappingItems, AdjacentItemsAndNewChromosomesAreFine) {
  EXPECT_EQ(status_of(bedgraph_section(0, {{0, 10, 1.0f}, {10, 20, 2.0f}, {20, 20, 3.0f}, {20, 21, 4.0f}})),
            DecodeStatus::Ok);
  EXPECT_EQ(status_of(fixedstep_section(0, 0, 10, 10, {1.0f, 2.0f})), DecodeStatus::Ok);
  EXPECT_EQ(status_of(concat({bedgraph_section(0, {{0, 100, 1.0f}}), bedgraph_section(1, {{0, 10, 2.0f}})})),
            DecodeStatus::Ok);
}

TEST(OverlappingItems, SingleBasesWindowAveragesAndTheSurveyAllRefuseTheFile) {
  Layout lay;
  TempFile tmp(build_bigwig(overlapping_spec(), &lay));
  const std::string block_offset = std::to_string(lay.block_offsets[0]);

  bwl::format::BigWigFile file(tmp.path());
  std::vector<float> values(128);
  bwl::format::BlockScratch scratch;
  try {
    file.values(0, 0, 128, NAN, values.data(), scratch);
    FAIL() << "values() read a file with overlapping items";
  } catch (const bwl::FormatError& e) {
    EXPECT_TRUE(mentions(e.what(), "overlap")) << e.what();
    EXPECT_EQ(e.offset(), lay.block_offsets[0]);
  }

  bwl::engine::Collection collection({tmp.path()}, 1);
  for (uint32_t window_size : {1u, 8u}) {
    try {
      batch(collection, window_size);
      FAIL() << "a batch of window_size " << window_size << " read a file with overlapping items";
    } catch (const bwl::FormatError& e) {
      EXPECT_TRUE(mentions(e.what(), "overlap")) << e.what();
      EXPECT_TRUE(mentions(e.what(), block_offset)) << e.what();
    }
  }

  const bwl::format::FileSurvey survey = bwl::format::survey_file(tmp.path());
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_TRUE(survey.problems[0].has_offset);
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[0]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "overlap")) << survey.problems[0].message;
  EXPECT_FALSE(survey.intact());
}

TEST(OverlappingItems, ItemsOverlappingAcrossBlocksAreRefusedByEveryPathAndTheSurvey) {
  // Block 0: [0, 10) = 1; block 1: [5, 15) = 2. Later-wins would average [0, 8) to 1.25 and the
  // summed counts (before) to 1.75 with a clamped count: both paths now refuse the window.
  FileSpec s;
  s.chroms = {{"chr1", 1000}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 10, 1.0f}}), 0, 0, 0, 10});
  s.blocks.push_back(Block{bedgraph_section(0, {{5, 15, 2.0f}}), 0, 5, 0, 15});
  Layout lay;
  TempFile tmp(build_bigwig(s, &lay));
  const std::string earlier = std::to_string(lay.block_offsets[0]);
  const std::string later = std::to_string(lay.block_offsets[1]);
  auto names_both_blocks = [&](const bwl::FormatError& e) {
    EXPECT_TRUE(mentions(e.what(), "overlap")) << e.what();
    EXPECT_TRUE(mentions(e.what(), tmp.path())) << e.what();
    EXPECT_TRUE(mentions(e.what(), earlier)) << e.what();
    EXPECT_TRUE(mentions(e.what(), later)) << e.what();
    EXPECT_EQ(e.offset(), lay.block_offsets[1]);
  };

  const bwl::format::FileSurvey survey = bwl::format::survey_file(tmp.path());
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[1]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "overlap")) << survey.problems[0].message;

  bwl::format::BigWigFile file(tmp.path());
  bwl::format::BlockScratch scratch;
  std::vector<float> values(128);
  try {
    file.values(0, 0, 128, NAN, values.data(), scratch);
    FAIL() << "values() read items overlapping across blocks";
  } catch (const bwl::FormatError& e) {
    names_both_blocks(e);
  }
  try {
    file.intervals(0, 0, 128, scratch);
    FAIL() << "intervals() read items overlapping across blocks";
  } catch (const bwl::FormatError& e) {
    names_both_blocks(e);
  }
  // A range that reaches only one of the two items reads it: nothing in it is ambiguous.
  values.assign(5, NAN);
  file.values(0, 10, 15, NAN, values.data(), scratch);
  EXPECT_EQ(values, std::vector<float>(5, 2.0f));

  for (uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
    bwl::engine::Collection collection({tmp.path()}, 1, cache_bytes);
    for (int pass = 0; pass < 2; ++pass) {  // the second pass is served by the cache when it is on
      for (uint32_t window_size : {1u, 8u}) {
        try {
          batch(collection, window_size);
          FAIL() << "a batch of window_size " << window_size << " (cache " << cache_bytes
                 << ") read items overlapping across blocks";
        } catch (const bwl::FormatError& e) {
          names_both_blocks(e);
        }
      }
    }
  }
}

TEST(OverlappingItems, WindowsSharingBlocksAndBlocksOfOtherChromosomesAreNotOverlaps) {
  // chr1 in two blocks, the second ending chr1 and starting chr2 at 0; many windows per batch,
  // so each block feeds several windows and columns of both chromosomes read the shared block.
  FileSpec s;
  s.chroms = {{"chr1", 1000}, {"chr2", 1000}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 100, 1.0f}, {100, 300, 2.0f}}), 0, 0, 0, 300});
  s.blocks.push_back(
      Block{concat({bedgraph_section(0, {{300, 500, 3.0f}}), bedgraph_section(1, {{0, 400, 4.0f}})}), 0, 300, 1, 400});
  TempFile tmp(build_bigwig(s));
  for (uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
    bwl::engine::Collection collection({tmp.path()}, 1, cache_bytes);
    bwl::engine::BatchRequest r;
    r.chroms = {0, 0, 0, 1, 0, 1};
    r.starts = {0, 64, 256, 0, 256, 128};
    r.length = 128;
    r.window_size = 8;
    r.tracks = {0};
    r.scales = {1.0f};
    const auto plan = bwl::engine::plan_batch(collection, r);
    std::vector<float> out(plan.batch * plan.cells);
    bwl::cpu::CpuBatchProcessor(1).load(collection, r, out.data());
    ASSERT_EQ(plan.cells, 16u);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1 * 16 + 4], 1.5f);   // [96, 104): 4 bases of 1, 4 of 2 (within a block)
    EXPECT_EQ(out[2 * 16 + 5], 2.5f);   // [296, 304): 4 bases of 2, 4 of 3 (across the blocks)
    EXPECT_EQ(out[3 * 16 + 0], 4.0f);   // chr2, from the block shared with chr1
    EXPECT_EQ(out[4 * 16 + 15], 3.0f);  // chr1 [376, 384), the same block again
    EXPECT_EQ(out[5 * 16 + 15], 4.0f);  // chr2 [248, 256)
  }
}

TEST(OverlappingItems, WindowCellsNeverCountMoreBasesThanTheyHave) {
  // A defensive bound only: overlapping runs are refused before a cell is finalized.
  EXPECT_EQ(bwl::stages::finalize_window_cell(8.0 * 3, 14, 8, 1.0f, 0.0f), 3.0f);
}

TEST(OverlappingItems, ValidNeighbouringBlocksStillAverageExactly) {
  FileSpec s;
  s.chroms = {{"chr1", 1000}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 4, 1.0f}}), 0, 0, 0, 4});
  s.blocks.push_back(Block{bedgraph_section(0, {{4, 8, 3.0f}}), 0, 4, 0, 8});
  TempFile tmp(build_bigwig(s));
  bwl::engine::Collection collection({tmp.path()}, 1);
  const std::vector<float> out = batch(collection, 8);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[1], 0.0f);
}
