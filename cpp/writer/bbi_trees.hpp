#pragma once
// The two indexes of a BBI file, laid out as bytes: the chromosome B+ tree and the R-tree
// ("cirTree") over blocks. Both are written top-down, root first, each level contiguous, and
// nodes hold only their items (no padding to the block size: readers follow a node's item
// count and the child offsets, which are exact).
//
//   B+ tree header (32 bytes): magic 0x78CA8C91, blockSize u32, keySize u32, valSize u32 (8),
//     itemCount u64, reserved u64.
//   node: isLeaf u8, reserved u8, count u16, then count items:
//     leaf:     key[keySize] (name, zero-padded), chromId u32, chromSize u32
//     internal: key[keySize] (first key below),   childOffset u64
//
//   R-tree header (48 bytes): magic 0x2468ACE0, blockSize u32, itemCount u64, startChromIx u32,
//     startBase u32, endChromIx u32, endBase u32, endFileOffset u64, itemsPerSlot u32, reserved u32.
//   node: isLeaf u8, reserved u8, count u16, then count items:
//     leaf (32 bytes):     startChromIx, startBase, endChromIx, endBase (u32), offset u64, size u64
//     internal (24 bytes): startChromIx, startBase, endChromIx, endBase (u32), childOffset u64
#include <cstdint>
#include <string>
#include <vector>

#include "writer/byte_writer.hpp"

namespace bwl::writer {

// UCSC's bedGraphToBigWig default: children per index node.
constexpr uint32_t kIndexBlockSize = 256;

struct ChromEntry {
  std::string name;
  uint32_t id;
  uint32_t size;
};

// The B+ tree of `chroms` (sorted by name, bytewise, names unique), to be stored at file
// offset `tree_offset`. Its size depends only on the names, never on ids or sizes.
Bytes chrom_bplus_tree(const std::vector<ChromEntry>& chroms, uint64_t tree_offset);

// One leaf of the R-tree: a block and the range of (chromosome, base) it covers. A range may
// start on one chromosome and end on a later one (zoom blocks do).
struct IndexedBlock {
  uint32_t start_chrom;
  uint32_t start;
  uint32_t end_chrom;
  uint32_t end;
  uint64_t offset;
  uint64_t size;
};

// The R-tree over `blocks` (sorted by start, as written), to be stored at file offset
// `tree_offset`; `end_file_offset` is where the indexed data ends; `items_per_slot` is
// recorded in the header as UCSC does (1 for data, 1024 for zoom levels).
Bytes cir_tree(const std::vector<IndexedBlock>& blocks, uint64_t tree_offset, uint64_t end_file_offset,
               uint32_t items_per_slot);

}  // namespace bwl::writer
