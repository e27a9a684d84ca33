#pragma once
// The R-tree of the full-resolution data, flattened at open into what queries need: the list
// of data blocks in file-offset order, and for each chromosome the blocks sorted by start.
// Built once, immutable afterwards, so any number of threads may query it at once.
#include <cstdint>
#include <vector>

#include "format/chrom_tree.hpp"
#include "io/byte_source.hpp"

namespace bwl::format {

constexpr uint32_t kRTreeMagic = 0x2468ACE0;
// The R-tree's on-disk layout (read here, written by writer/bbi_trees); nodes start with a
// kTreeNodeHeaderBytes header.
constexpr size_t kRTreeHeaderBytes = 48;
constexpr size_t kRTreeLeafItemBytes = 32;
constexpr size_t kRTreeInnerItemBytes = 24;
// A data block larger than this is a corrupt size field (real blocks are a few KB).
constexpr uint64_t kMaxBlockBytes = 1u << 28;

// One compressed (or, in uncompressed files, raw) run of data sections on disk.
struct DataBlock {
  uint64_t offset = 0;
  uint64_t size = 0;
};

class BlockIndex {
 public:
  BlockIndex() = default;

  // Reads the R-tree at `index_offset`; `chroms` is the chromosome table of the same file, and
  // query chromosome indices below are positions in it. Throws FormatError for a bad magic
  // number, a node visited twice, a leaf naming a chromosome id the table lacks, or a block
  // outside the file.
  static BlockIndex read(const io::ByteSource& file, uint64_t index_offset, const std::vector<ChromInfo>& chroms);

  // Every block, sorted by file offset. Block numbers below index this vector.
  const std::vector<DataBlock>& blocks() const { return blocks_; }

  // Appends to `out` the numbers of the blocks whose extent on chromosome `chrom_index`
  // overlaps [start, end), in increasing order, each once.
  void find_overlapping(size_t chrom_index, uint32_t start, uint32_t end, std::vector<uint32_t>& out) const;

 private:
  // A block's extent on one chromosome: [start, end). Blocks spanning several chromosomes
  // appear once per chromosome.
  struct Extent {
    uint32_t start;
    uint32_t end;
    uint32_t block;
  };
  struct ChromBlocks {
    std::vector<Extent> extents;           // sorted by start
    std::vector<uint32_t> max_end_so_far;  // max of extents[0..i].end: non-decreasing, so searchable
  };

  std::vector<DataBlock> blocks_;
  std::vector<ChromBlocks> per_chrom_;
};

}  // namespace bwl::format
