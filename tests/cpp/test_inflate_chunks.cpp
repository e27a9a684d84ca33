// The CUDA backend's bounded inflate scratch: how a batch's blocks split into chunks under a cap
// (stages/inflate_chunks.hpp), and the run offsets scanned chunk by chunk. The chunked pipeline
// itself is checked against the CPU backend in test_device_pipeline.cpp.
#include <gtest/gtest.h>

#include <vector>

#include "stages/inflate_chunks.hpp"

namespace {

using bwl::stages::BlockChunk;
using bwl::stages::BlockOutcome;
using bwl::stages::DeviceBlock;

// Blocks laid out as engine::lay_out_device_batch does: out_offset the running sum of capacities.
std::vector<DeviceBlock> layout(const std::vector<uint32_t>& capacities) {
  std::vector<DeviceBlock> blocks;
  uint64_t offset = 0;
  for (uint32_t c : capacities) {
    DeviceBlock b{};
    b.out_offset = offset;
    b.out_capacity = c;
    b.compressed = c > 0;
    offset += c;
    blocks.push_back(b);
  }
  return blocks;
}

std::vector<BlockChunk> plan(const std::vector<uint32_t>& capacities, uint64_t cap) {
  const auto blocks = layout(capacities);
  return bwl::stages::plan_inflate_chunks(blocks.data(), static_cast<uint32_t>(blocks.size()), cap);
}

TEST(InflateChunks, OneChunkWhenTheBatchFits) {
  const auto chunks = plan({100, 100, 100}, 300);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].first, 0u);
  EXPECT_EQ(chunks[0].count, 3u);
  EXPECT_EQ(chunks[0].inflated_origin, 0u);
  EXPECT_EQ(chunks[0].inflated_bytes, 300u);
}

TEST(InflateChunks, SplitsAtTheCapAndCoversEveryBlockOnce) {
  const auto chunks = plan({100, 100, 100, 50, 0, 0, 200}, 250);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].first, 0u);
  EXPECT_EQ(chunks[0].count, 2u);
  EXPECT_EQ(chunks[0].inflated_bytes, 200u);
  EXPECT_EQ(chunks[1].first, 2u);
  EXPECT_EQ(chunks[1].count, 4u);  // uncompressed blocks need no arena
  EXPECT_EQ(chunks[1].inflated_origin, 200u);
  EXPECT_EQ(chunks[1].inflated_bytes, 150u);
  EXPECT_EQ(chunks[2].first, 6u);
  EXPECT_EQ(chunks[2].count, 1u);
  EXPECT_EQ(chunks[2].inflated_origin, 350u);
  EXPECT_EQ(bwl::stages::largest_chunk_bytes(chunks), 200u);
}

TEST(InflateChunks, ABlockOverTheCapIsAChunkAlone) {
  const auto chunks = plan({10, 500, 10}, 100);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].count, 1u);
  EXPECT_EQ(chunks[1].inflated_bytes, 500u);
  EXPECT_EQ(bwl::stages::largest_chunk_bytes(chunks), 500u);
  EXPECT_TRUE(plan({}, 100).empty());
  EXPECT_EQ(plan({0, 0, 0}, 1).size(), 1u);  // nothing to inflate: one chunk of all
}

TEST(InflateChunks, ChunkViewsAndRunOffsetsAddUpToTheBatch) {
  auto blocks = layout({100, 100, 100, 100});
  std::vector<BlockOutcome> outcomes(4);
  const uint32_t runs[] = {3, 0, 5, 2};
  for (int i = 0; i < 4; ++i) outcomes[i].runs = runs[i];
  std::vector<uint64_t> offsets(4, 99);
  bwl::stages::DeviceBatchView all{};
  all.blocks = blocks.data();
  all.n_blocks = 4;
  all.outcomes = outcomes.data();
  all.run_offsets = offsets.data();
  const auto chunks = bwl::stages::plan_inflate_chunks(blocks.data(), 4, 200);
  ASSERT_EQ(chunks.size(), 2u);
  uint64_t total = 0;
  for (const BlockChunk& c : chunks) {
    const auto v = bwl::stages::chunk_view(all, c);
    EXPECT_EQ(v.blocks, blocks.data() + c.first);
    EXPECT_EQ(v.outcomes, outcomes.data() + c.first);
    EXPECT_EQ(v.run_offsets, offsets.data() + c.first);
    EXPECT_EQ(v.n_blocks, c.count);
    EXPECT_EQ(v.inflated_origin, c.first * 100u);
    total = bwl::stages::scan_chunk_run_offsets(outcomes.data(), c, total, offsets.data());
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(offsets, (std::vector<uint64_t>{0, 3, 3, 8}));
}

}  // namespace
