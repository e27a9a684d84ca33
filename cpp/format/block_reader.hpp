#pragma once
// Fetch, inflate and decode of a file's data blocks on the host: the stages 2-4 of the batch
// pipeline for one file. A compressed local file's blocks are inflated where they lie in its
// mapping (io::MappedFile, under its fault guard); otherwise adjacent blocks are fetched with
// one read.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "common/scratch_buffer.hpp"
#include "format/bbi_header.hpp"
#include "format/block_index.hpp"
#include "io/byte_source.hpp"
#include "io/mapped_file.hpp"
#include "stages/host_inflate.hpp"
#include "stages/run.hpp"
#include "stages/section_decode.hpp"

namespace bwl::format {

// Everything one thread needs to read blocks; allocated once, grown geometrically, reused.
// Not shared between threads.
struct BlockScratch {
  ScratchBuffer<uint8_t> fetched;   // raw bytes of a group of adjacent blocks
  ScratchBuffer<uint8_t> inflated;  // one inflated block
  ScratchBuffer<stages::Run> runs;  // one block's runs
  std::vector<uint32_t> block_numbers;
  stages::HostInflater inflater;
};

// The calling thread's own scratch, for callers that do not keep one per worker.
BlockScratch& thread_block_scratch();

// Largest number of bytes fetched in one read when merging adjacent blocks.
constexpr uint64_t kMaxMergedReadBytes = 4u << 20;

// The one grouping of a file's blocks into reads, used by every backend: of the blocks
// block_at(first), block_at(first + 1), ... (positions < last, in increasing offset order), the
// group that starts at `first` is those that lie back to back on disk, kMaxMergedReadBytes in all
// at most (a larger block is read alone). Returns the position after the group.
template <typename BlockAt>
size_t end_of_read_group(size_t first, size_t last, BlockAt&& block_at) {
  const DataBlock& head = block_at(first);
  uint64_t end = head.offset + head.size;
  size_t j = first + 1;
  for (; j < last; ++j) {
    const DataBlock& next = block_at(j);
    if (next.offset != end || next.offset + next.size - head.offset > kMaxMergedReadBytes) break;
    end += next.size;
  }
  return j;
}

// The one wording of a block that does not inflate or decode (a FormatError's detail), whichever
// path found it (the backends, values(), the survey); `what` is "data block" or "zoom block".
inline std::string inflate_failure(stages::InflateStatus status, const char* what = "data block") {
  return std::string("corrupt ") + what + ": " + stages::describe(status);
}
inline std::string decode_failure(const stages::DecodeResult& result) {
  return std::string("corrupt data block: ") + stages::describe(result.status) + " (section at byte " +
         std::to_string(result.error_offset) + " of the block's data)";
}

// The one wording of items of two blocks that overlap (stages::RunOrder in a read, the survey's
// check across blocks), whichever path found it: the offsets of the block that kept the earlier
// item and of the block whose item starts before that one ends.
inline std::string overlapping_blocks_message(uint64_t earlier_offset, uint64_t later_offset) {
  return "corrupt data blocks: an item of the block at byte offset " + std::to_string(later_offset) +
         " starts before an item of the block at byte offset " + std::to_string(earlier_offset) +
         " ends (data items overlap or are out of order)";
}
inline FormatError overlapping_blocks_error(const std::string& path, uint64_t earlier_offset, uint64_t later_offset) {
  return format_error(path, overlapping_blocks_message(earlier_offset, later_offset), later_offset);
}

// A block's bytes ready to decode: inflated into `inflated` in a compressed file, the stored bytes
// themselves in an uncompressed one.
struct BlockBytes {
  const uint8_t* data;
  size_t size;
};

// The one host inflate step of a block stored at `block_offset` (decode_blocks and the survey).
// Throws FormatError (inflate_failure's wording) naming the file and the block's offset.
inline BlockBytes inflate_block(const std::string& path, const BbiHeader& header, uint64_t block_offset,
                                const uint8_t* stored, size_t stored_size, ScratchBuffer<uint8_t>& inflated,
                                stages::HostInflater& inflater, const char* what = "data block") {
  if (!header.compressed()) return BlockBytes{stored, stored_size};
  uint8_t* out = inflated.reserve(header.uncompress_buf_size);
  size_t n_bytes = 0;
  const stages::InflateStatus status =
      inflater.inflate_zlib(stored, stored_size, out, header.uncompress_buf_size, &n_bytes);
  if (status != stages::InflateStatus::Ok) throw format_error(path, inflate_failure(status, what), block_offset);
  return BlockBytes{out, n_bytes};
}

// inflate_block for a block of a compressed file that lies in the file's mapping: inflated where
// it lies (no read, no copy), under the mapping's fault guard. Returns false when the guarded
// inflate faulted (the file was truncated since it was mapped) or the block did not inflate
// (perhaps zeros: the rest of the page holding a truncated file's new end reads so): the caller
// then reads the block with read_exact and inflate_block, which report a truncation or a corrupt
// block as they always do.
inline bool inflate_mapped_block(const io::MappedFile& map, const BbiHeader& header, const DataBlock& block,
                                 ScratchBuffer<uint8_t>& inflated, stages::HostInflater& inflater, BlockBytes& data) {
  uint8_t* out = inflated.reserve(header.uncompress_buf_size);  // allocated before the guard
  size_t n_bytes = 0;
  stages::InflateStatus status = stages::InflateStatus::Ok;
  // The guarded function may be abandoned midway: the inflate only reads the mapping and writes
  // `out` (the decompressor keeps no state between calls).
  const bool read = map.read([&](const char* bytes) {
    status = inflater.inflate_zlib(reinterpret_cast<const uint8_t*>(bytes) + block.offset, block.size, out,
                                   header.uncompress_buf_size, &n_bytes);
  });
  if (!read || status != stages::InflateStatus::Ok) return false;
  data = BlockBytes{out, n_bytes};
  return true;
}

// The filter decode_blocks applies by default: every run of every block.
struct KeepAllRunsOfEveryBlock {
  stages::KeepAllRuns operator()(size_t) const { return {}; }
};

// Where decode_blocks decodes a block's runs by default: the scratch's own buffer, room for as
// many runs as the block's bytes could hold.
struct RunsIntoScratch {
  BlockScratch& scratch;
  std::pair<stages::Run*, uint32_t> operator()(const uint8_t*, uint32_t bytes) const {
    const uint32_t capacity = stages::max_runs_in_block(bytes);
    return {scratch.runs.reserve(capacity), capacity};
  }
};

// Reads, inflates and decodes the blocks numbered `block_numbers` (increasing) and calls
// visit(const stages::Run* runs, uint32_t n_runs) once per block, in that order, with the runs
// that keep_for(i) (a decode filter, see stages/section_decode.hpp) accepts of block i of the
// list, decoded into runs_into(inflated bytes, their size): (where, room for how many runs),
// left alone until the next call (decode_blocks: the scratch's; a caller that keeps the runs
// decodes them where it keeps them, saving a copy; too little room is an OutputOverflow error).
// A block that does not inflate or decode throws FormatError naming the file and offset.
template <typename Visit, typename KeepFor, typename RunsInto>
void decode_blocks_into(const io::ByteSource& file, const BbiHeader& header, const BlockIndex& index,
                        const std::vector<uint32_t>& block_numbers, BlockScratch& scratch, Visit&& visit,
                        KeepFor&& keep_for, RunsInto&& runs_into) {
  const std::vector<DataBlock>& blocks = index.blocks();
  auto block_at = [&](size_t p) -> const DataBlock& { return blocks[block_numbers[p]]; };
  size_t i = 0;
  while (i < block_numbers.size()) {
    // A group of blocks that lie back to back on disk: one read.
    const size_t j = end_of_read_group(i, block_numbers.size(), block_at);
    const uint64_t group_offset = blocks[block_numbers[i]].offset;
    const uint64_t group_end = blocks[block_numbers[j - 1]].offset + blocks[block_numbers[j - 1]].size;
    // Bytes already in memory (a remote source's fetched spans) are inflated where they lie: the
    // group's in one span, or each block's in its own (a group may straddle two fetched ranges).
    const uint64_t group_size = group_end - group_offset;
    // A local file mapped at open: a compressed block is inflated where it lies in the mapping (a
    // pread's system call and copy were 7% of a cold batch).
    const io::MappedFile* map = header.compressed() ? file.mapping() : nullptr;
    const bool from_map = map != nullptr && group_end <= map->size();
    const std::shared_ptr<const io::FetchedSpan> span =
        from_map ? nullptr : file.span_covering(group_offset, group_size);
    bool each_block_in_memory = false;
    if (!span && file.is_remote()) {
      each_block_in_memory = true;
      for (size_t k = i; k < j && each_block_in_memory; ++k) {
        const DataBlock& b = blocks[block_numbers[k]];
        each_block_in_memory = file.span_covering(b.offset, b.size) != nullptr;
      }
    }
    const uint8_t* fetched = nullptr;
    if (span) {
      file.check_range(group_offset, group_size, "data blocks");
      fetched = span->bytes.data() + (group_offset - span->offset);
    } else if (!from_map && !each_block_in_memory) {
      uint8_t* into = scratch.fetched.reserve(group_size);
      file.read_exact(group_offset, group_size, into, "data blocks");
      fetched = into;
    }

    // Where block's stored bytes are; `own` keeps a fetched span they lie in alive.
    auto stored_bytes = [&](const DataBlock& block, std::shared_ptr<const io::FetchedSpan>& own) -> const uint8_t* {
      auto read = [&] {
        uint8_t* into = scratch.fetched.reserve(block.size);
        file.read_exact(block.offset, block.size, into, "data blocks");
        return static_cast<const uint8_t*>(into);
      };
      if (from_map) return read();  // faulted or did not inflate in the mapping: the read and inflate say why
      if (fetched != nullptr) return fetched + (block.offset - group_offset);
      own = file.span_covering(block.offset, block.size);
      if (!own) return read();  // released meanwhile (not by this batch's hold)
      file.check_range(block.offset, block.size, "data blocks");
      return own->bytes.data() + (block.offset - own->offset);
    };

    for (; i < j; ++i) {
      const DataBlock& block = blocks[block_numbers[i]];
      BlockBytes data{nullptr, 0};
      // Held to the decode: an uncompressed block's bytes to decode are its stored bytes.
      std::shared_ptr<const io::FetchedSpan> own;
      if (!from_map || !inflate_mapped_block(*map, header, block, scratch.inflated, scratch.inflater, data)) {
        const uint8_t* stored = stored_bytes(block, own);
        data = inflate_block(file.path(), header, block.offset, stored, block.size, scratch.inflated, scratch.inflater);
      }
      const uint8_t* bytes = data.data;
      const auto size32 = static_cast<uint32_t>(data.size);  // blocks are capped far below 4 GiB
      const auto [runs, capacity] = runs_into(bytes, size32);
      const stages::DecodeResult result = stages::decode_block(bytes, size32, runs, capacity, keep_for(i));
      if (result.status != stages::DecodeStatus::Ok) {
        throw format_error(file.path(), decode_failure(result), block.offset);
      }
      visit(static_cast<const stages::Run*>(runs), result.runs);
    }
  }
}

// decode_blocks_into with the runs decoded into the scratch's own buffer.
template <typename Visit, typename KeepFor = KeepAllRunsOfEveryBlock>
void decode_blocks(const io::ByteSource& file, const BbiHeader& header, const BlockIndex& index,
                   const std::vector<uint32_t>& block_numbers, BlockScratch& scratch, Visit&& visit,
                   KeepFor&& keep_for = KeepFor{}) {
  decode_blocks_into(file, header, index, block_numbers, scratch, std::forward<Visit>(visit),
                     std::forward<KeepFor>(keep_for), RunsIntoScratch{scratch});
}

}  // namespace bwl::format
