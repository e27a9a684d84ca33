// survey_file: per-block facts of intact files, and every problem of damaged ones, each with
// its byte offset, on files built byte by byte (bbi_builder.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "format/block_survey.hpp"

using namespace bwl::test;
using bwl::format::FileSurvey;
using bwl::format::survey_file;

namespace {

// chrA (id 0, 1000 bp): block 0 bedGraph (2 items), block 1 bedGraph + variableStep (1 + 2 items)
// chrB (id 1, 500 bp): block 2 fixedStep (3 items)
FileSpec spec(bool compressed) {
  FileSpec s;
  s.compressed = compressed;
  s.chroms = {{"chrA", 1000}, {"chrB", 500}};
  s.blocks.push_back(Block{bedgraph_section(0, {{10, 20, 1.0f}, {20, 25, 2.0f}}), 0, 10, 0, 25});
  s.blocks.push_back(
      Block{concat({bedgraph_section(0, {{40, 50, 1.5f}}), varstep_section(0, 5, {{100, 3.0f}, {200, NAN}})}), 0, 40, 0,
            205});
  s.blocks.push_back(Block{fixedstep_section(1, 50, 10, 5, {4.0f, 5.0f, 6.0f}), 1, 50, 1, 75});
  return s;
}

FileSurvey survey_of(const Bytes& bytes) {
  TempFile tmp(bytes);
  return survey_file(tmp.path());
}

bool mentions(const std::string& message, const std::string& what) { return message.find(what) != std::string::npos; }

}  // namespace

TEST(BlockSurvey, FactsOfEveryBlockOfAnIntactCompressedFile) {
  Layout lay;
  const FileSpec s = spec(true);
  const Bytes bytes = build_bigwig(s, &lay);
  const FileSurvey survey = survey_of(bytes);

  ASSERT_TRUE(survey.opened);
  EXPECT_TRUE(survey.intact());
  ASSERT_EQ(survey.blocks.size(), 3u);
  const uint32_t sections[] = {1, 2, 1};
  const uint32_t items[] = {2, 3, 3};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(survey.blocks[i].offset, lay.block_offsets[i]);
    EXPECT_EQ(survey.blocks[i].stored_bytes, zlib_compress(s.blocks[i].data).size());
    EXPECT_EQ(survey.blocks[i].inflated_bytes, s.blocks[i].data.size());
    EXPECT_EQ(survey.blocks[i].sections, sections[i]);
    EXPECT_EQ(survey.blocks[i].items, items[i]);
    EXPECT_TRUE(survey.blocks[i].intact);
  }
  EXPECT_EQ(survey.sections_by_type, (std::array<uint64_t, 3>{2, 1, 1}));
  EXPECT_EQ(survey.items_by_type, (std::array<uint64_t, 3>{3, 2, 3}));
  EXPECT_TRUE(survey.zooms.empty());
}

TEST(BlockSurvey, UncompressedBlocksInflateToTheirStoredSize) {
  Layout lay;
  const FileSpec s = spec(false);
  const FileSurvey survey = survey_of(build_bigwig(s, &lay));
  ASSERT_TRUE(survey.intact());
  ASSERT_EQ(survey.blocks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(survey.blocks[i].stored_bytes, s.blocks[i].data.size());
    EXPECT_EQ(survey.blocks[i].inflated_bytes, s.blocks[i].data.size());
  }
}

TEST(BlockSurvey, EveryCorruptBlockIsReportedAtItsOffsetAndTheWalkGoesOn) {
  Layout lay;
  Bytes b = build_bigwig(spec(true), &lay);
  for (size_t i = 2; i < 8; ++i) {
    b[lay.block_offsets[0] + i] ^= 0x5A;
    b[lay.block_offsets[2] + i] ^= 0x5A;
  }
  const FileSurvey survey = survey_of(b);
  ASSERT_TRUE(survey.opened);
  ASSERT_EQ(survey.problems.size(), 2u);
  EXPECT_TRUE(survey.problems[0].has_offset);
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[0]);
  EXPECT_EQ(survey.problems[1].offset, lay.block_offsets[2]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "corrupt data block: ")) << survey.problems[0].message;
  EXPECT_FALSE(survey.blocks[0].intact);
  EXPECT_TRUE(survey.blocks[1].intact);
  EXPECT_EQ(survey.blocks[1].items, 3u);
  EXPECT_FALSE(survey.blocks[2].intact);
}

TEST(BlockSurvey, BadSectionTypeCountsTheSectionsBeforeIt) {
  Layout lay;
  Bytes b = build_bigwig(spec(false), &lay);
  // Block 1's second section (after a 24 + 12 byte bedGraph section) gets type 9.
  b[lay.block_offsets[1] + 36 + 20] = 9;
  const FileSurvey survey = survey_of(b);
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[1]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "unknown data section type")) << survey.problems[0].message;
  EXPECT_TRUE(mentions(survey.problems[0].message, "section at byte 36")) << survey.problems[0].message;
  EXPECT_EQ(survey.blocks[1].sections, 1u);
  EXPECT_EQ(survey.blocks[1].items, 1u);
}

TEST(BlockSurvey, ItemPastItsChromosomeEndIsReported) {
  FileSpec s = spec(true);
  s.blocks[2] = Block{bedgraph_section(1, {{450, 520, 1.0f}}), 1, 450, 1, 520};  // chrB is 500 bp
  Layout lay;
  const FileSurvey survey = survey_of(build_bigwig(s, &lay));
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[2]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "past the end of its chromosome (size 500)"))
      << survey.problems[0].message;
}

TEST(BlockSurvey, ItemOnAChromosomeIdTheTreeLacksIsReported) {
  FileSpec s = spec(true);
  s.blocks[2].data = fixedstep_section(7, 50, 10, 5, {4.0f});
  Layout lay;
  const FileSurvey survey = survey_of(build_bigwig(s, &lay));
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[2]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "chromosome id 7")) << survey.problems[0].message;
}

TEST(BlockSurvey, ZoomBlocksThatAreNotSummaryRecordsAreReported) {
  // The builder's zoom level points at the full-resolution data: its blocks hold sections
  // (block 0: 24 + 2 * 12 = 48 bytes), not whole 32-byte zoom records.
  FileSpec s = spec(true);
  s.add_zoom_level = true;
  Layout lay;
  const FileSurvey survey = survey_of(build_bigwig(s, &lay));
  ASSERT_EQ(survey.zooms.size(), 1u);
  EXPECT_EQ(survey.zooms[0].reduction_level, 100u);
  EXPECT_EQ(survey.zooms[0].blocks, 3u);
  ASSERT_FALSE(survey.problems.empty());
  EXPECT_EQ(survey.problems[0].offset, lay.block_offsets[0]);
  EXPECT_TRUE(mentions(survey.problems[0].message, "zoom level 100")) << survey.problems[0].message;
  EXPECT_TRUE(mentions(survey.problems[0].message, "32-byte records")) << survey.problems[0].message;
}

TEST(BlockSurvey, AnUnreadableIndexIsOneProblemAtItsOffset) {
  Layout lay;
  Bytes b = build_bigwig(spec(true), &lay);
  b[lay.index] ^= 0xFF;  // R-tree magic
  const FileSurvey survey = survey_of(b);
  EXPECT_FALSE(survey.opened);
  EXPECT_TRUE(survey.blocks.empty());
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_TRUE(survey.problems[0].has_offset);
  EXPECT_EQ(survey.problems[0].offset, lay.index);
  EXPECT_TRUE(mentions(survey.problems[0].message, "bad magic number")) << survey.problems[0].message;
  // The path is the survey's, not repeated in each message.
  EXPECT_FALSE(mentions(survey.problems[0].message, survey.path));
}

TEST(BlockSurvey, NotABigWigIsAProblemAndAMissingFileThrows) {
  const FileSurvey survey = survey_of(Bytes(200, 0x41));
  EXPECT_FALSE(survey.opened);
  ASSERT_EQ(survey.problems.size(), 1u);
  EXPECT_TRUE(mentions(survey.problems[0].message, "not a bigWig")) << survey.problems[0].message;
  EXPECT_THROW(survey_file(std::string("/nonexistent/dir/file.bw")), bwl::FileNotFound);
}
