#pragma once
// Bounded inflate scratch for the CUDA backend: a batch's planned blocks, taken in plan order,
// split into chunks whose inflated arena fits a cap. Each chunk is inflated and decoded into
// runs before the next reuses the arena, so a worker's inflate scratch stays under the cap
// however large the batch (an Enformer-size batch would otherwise take several GB: the arena
// reserves the file's uncompressBufSize per block). Pure host logic, tested on every machine.
#include <cstdint>
#include <vector>

#include "stages/device_pipeline.hpp"

namespace bwl::stages {

struct BlockChunk {
  uint32_t first;  // blocks [first, first + count)
  uint32_t count;
  uint64_t inflated_origin;  // blocks[first].out_offset: the chunk's arena starts here
  uint64_t inflated_bytes;   // arena the chunk needs
};

// Consecutive chunks covering blocks [0, n), each needing at most `cap` arena bytes, except a
// single block whose own capacity exceeds the cap, which forms a chunk alone. Relies on the
// layout of engine::lay_out_device_batch: out_offset is the running sum of out_capacity (0 for blocks
// stored uncompressed). No blocks: no chunks.
inline std::vector<BlockChunk> plan_inflate_chunks(const DeviceBlock* blocks, uint32_t n, uint64_t cap) {
  std::vector<BlockChunk> chunks;
  uint32_t i = 0;
  while (i < n) {
    BlockChunk c{i, 0, blocks[i].out_offset, 0};
    while (i < n) {
      const uint64_t end = blocks[i].out_offset + blocks[i].out_capacity - c.inflated_origin;
      if (c.count > 0 && end > cap) break;
      c.inflated_bytes = end;
      ++c.count;
      ++i;
    }
    chunks.push_back(c);
  }
  return chunks;
}

// The view of `all` that one chunk's inflate, count and write steps run on: the chunk's blocks,
// outcomes and run offsets (block i of the chunk is block first + i of the batch), and
// `all.inflated` as the arena holding the chunk from its origin. Runs stay batch-wide.
inline DeviceBatchView chunk_view(const DeviceBatchView& all, const BlockChunk& c) {
  DeviceBatchView v = all;
  v.blocks = all.blocks + c.first;
  v.n_blocks = c.count;
  v.outcomes = all.outcomes + c.first;
  if (all.run_offsets != nullptr) v.run_offsets = all.run_offsets + c.first;
  v.inflated_origin = c.inflated_origin;
  return v;
}

// Run offsets of a chunk's blocks once their counts are known: offsets[i] = runs kept by every
// block before i (earlier chunks' `runs_before` included). Returns the runs kept through this chunk.
inline uint64_t scan_chunk_run_offsets(const BlockOutcome* outcomes, const BlockChunk& c, uint64_t runs_before,
                                       uint64_t* offsets) {
  uint64_t total = runs_before;
  for (uint32_t i = c.first; i < c.first + c.count; ++i) {
    offsets[i] = total;
    total += outcomes[i].runs;
  }
  return total;
}

// The largest arena any chunk needs (what the worker allocates once).
inline uint64_t largest_chunk_bytes(const std::vector<BlockChunk>& chunks) {
  uint64_t most = 0;
  for (const BlockChunk& c : chunks) most = c.inflated_bytes > most ? c.inflated_bytes : most;
  return most;
}

}  // namespace bwl::stages
