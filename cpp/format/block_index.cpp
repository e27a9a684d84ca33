#include "format/block_index.hpp"

#include <algorithm>
#include <limits>

#include "common/errors.hpp"
#include "common/gallop.hpp"
#include "format/byte_cursor.hpp"
#include "format/tree_walk.hpp"

namespace bwl::format {
namespace {

constexpr uint32_t kChromEnd = std::numeric_limits<uint32_t>::max();

struct Leaf {
  uint32_t start_chrom_id, start_base, end_chrom_id, end_base;
  DataBlock block;
  uint64_t item_offset;  // where the leaf item lies, for error messages
};

void check_leaf(const Leaf& leaf, const io::ByteSource& file) {
  const std::string& path = file.path();
  if (leaf.block.size == 0 || leaf.block.size > kMaxBlockBytes) {
    throw format_error(path, "corrupt R-tree index: data block size " + std::to_string(leaf.block.size),
                       leaf.item_offset);
  }
  if (leaf.block.offset >= file.size() || leaf.block.size > file.size() - leaf.block.offset) {
    throw format_error(path,
                       "truncated or corrupt: data block at " + std::to_string(leaf.block.offset) + " of " +
                           std::to_string(leaf.block.size) + " bytes runs past the end of the file (" +
                           std::to_string(file.size()) + " bytes)",
                       leaf.item_offset);
  }
  if (leaf.start_chrom_id > leaf.end_chrom_id) {
    throw format_error(path, "corrupt R-tree index: leaf ends on a chromosome before the one it starts on",
                       leaf.item_offset);
  }
}

}  // namespace

BlockIndex BlockIndex::read(const io::ByteSource& file, uint64_t index_offset, const std::vector<ChromInfo>& chroms) {
  const std::string& path = file.path();
  std::vector<uint8_t> bytes(kRTreeHeaderBytes);
  file.read_exact(index_offset, kRTreeHeaderBytes, bytes.data(), "R-tree index header");
  if (load_u32le(bytes.data()) != kRTreeMagic)
    throw format_error(path, "corrupt R-tree index: bad magic number", index_offset);

  // Leaves: the block's extent (chromosome id and base at each end), then its offset and size;
  // inner items: the child's extent, then the child.
  const TreeShape shape{"R-tree index", "R-tree node", kRTreeLeafItemBytes, kRTreeInnerItemBytes};
  std::vector<Leaf> leaves;
  walk_tree(file, index_offset + kRTreeHeaderBytes, shape, [&](ByteCursor& item) {
    Leaf leaf{};
    leaf.item_offset = item.offset();
    leaf.start_chrom_id = item.u32();
    leaf.start_base = item.u32();
    leaf.end_chrom_id = item.u32();
    leaf.end_base = item.u32();
    leaf.block.offset = item.u64();
    leaf.block.size = item.u64();
    leaves.push_back(leaf);
  });
  for (const Leaf& leaf : leaves) check_leaf(leaf, file);
  std::sort(leaves.begin(), leaves.end(), [](const Leaf& a, const Leaf& b) { return a.block.offset < b.block.offset; });

  // Chromosome ids, sorted, with their positions in `chroms`: a leaf names a range of ids.
  std::vector<std::pair<uint32_t, uint32_t>> id_to_index;
  id_to_index.reserve(chroms.size());
  for (uint32_t i = 0; i < chroms.size(); ++i) id_to_index.emplace_back(chroms[i].id, i);
  std::sort(id_to_index.begin(), id_to_index.end());

  BlockIndex index;
  index.per_chrom_.resize(chroms.size());
  index.blocks_.reserve(leaves.size());
  // Leaves of a valid index cover the genome in order, so a chromosome appears in at most one
  // leaf more than it has boundaries with its neighbours: the extents number at most blocks +
  // chromosomes. Overlapping leaves that each claim a wide range of chromosomes (a corrupt file)
  // would otherwise cost memory of blocks x chromosomes; refuse them at twice the valid bound.
  const uint64_t max_extents = 2 * (uint64_t{leaves.size()} + chroms.size()) + 16;
  uint64_t extents = 0;
  for (const Leaf& leaf : leaves) {
    if (!index.blocks_.empty() && index.blocks_.back().offset == leaf.block.offset) {
      throw format_error(path, "corrupt R-tree index: two leaves point at the same data block", leaf.item_offset);
    }
    const auto block_number = static_cast<uint32_t>(index.blocks_.size());
    index.blocks_.push_back(leaf.block);
    auto it =
        std::lower_bound(id_to_index.begin(), id_to_index.end(), std::make_pair(leaf.start_chrom_id, uint32_t{0}));
    if (it == id_to_index.end() || it->first != leaf.start_chrom_id) {
      throw format_error(path,
                         "corrupt R-tree index: leaf names chromosome id " + std::to_string(leaf.start_chrom_id) +
                             ", which the chromosome tree lacks",
                         leaf.item_offset);
    }
    for (; it != id_to_index.end() && it->first <= leaf.end_chrom_id; ++it) {
      if (++extents > max_extents) {
        throw format_error(path,
                           "corrupt R-tree index: its leaves claim more chromosomes than " +
                               std::to_string(leaves.size()) + " blocks over " + std::to_string(chroms.size()) +
                               " chromosomes can cover (leaves overlap)",
                           leaf.item_offset);
      }
      const uint32_t start = it->first == leaf.start_chrom_id ? leaf.start_base : 0;
      const uint32_t end = it->first == leaf.end_chrom_id ? leaf.end_base : kChromEnd;
      index.per_chrom_[it->second].extents.push_back(Extent{start, end, block_number});
    }
  }
  for (ChromBlocks& cb : index.per_chrom_) {
    std::stable_sort(cb.extents.begin(), cb.extents.end(),
                     [](const Extent& a, const Extent& b) { return a.start < b.start; });
    cb.max_end_so_far.resize(cb.extents.size());
    uint32_t running = 0;
    for (size_t i = 0; i < cb.extents.size(); ++i) {
      running = std::max(running, cb.extents[i].end);
      cb.max_end_so_far[i] = running;
    }
  }
  return index;
}

void BlockIndex::find_overlapping(size_t chrom_index, uint32_t start, uint32_t end, std::vector<uint32_t>& out) const {
  if (chrom_index >= per_chrom_.size() || start >= end) return;
  const ChromBlocks& cb = per_chrom_[chrom_index];
  const size_t n = cb.extents.size();
  if (n == 0) return;
  // Extents from `last` on start at or after `end`; extents before `first` all end at or before
  // `start` (first <= last: an extent starting at or after `end` ends after `start`). Both are
  // galloped to from a guess: a chromosome's blocks cover spans of similar size, so where `end`
  // falls between its first and last start says roughly which extent it is, and `first` lies
  // just before `last`. (A genome-wide index is larger than the caches: a binary search from the
  // middle misses on most of its probes.)
  const uint32_t lowest = cb.extents.front().start, highest = cb.extents.back().start;
  const size_t guess =
      highest > lowest && end > lowest
          ? static_cast<size_t>(std::min<uint64_t>(n - 1, uint64_t{end - lowest} * n / (highest - lowest)))
          : 0;
  const size_t last = static_cast<size_t>(
      gallop(cb.extents.data(), n, guess, [end](const Extent& e) { return e.start < end; }) - cb.extents.data());
  const size_t first = static_cast<size_t>(gallop(cb.max_end_so_far.data(), last, last == 0 ? 0 : last - 1,
                                                  [start](uint32_t max_end) { return max_end <= start; }) -
                                           cb.max_end_so_far.data());
  const size_t before = out.size();
  for (size_t i = first; i < last; ++i) {
    if (cb.extents[i].end > start) out.push_back(cb.extents[i].block);
  }
  // Extents are in start order; block numbers are in file order. They agree for every writer
  // we know, but nothing in the format promises it.
  if (!std::is_sorted(out.begin() + static_cast<std::ptrdiff_t>(before), out.end())) {
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
  }
}

}  // namespace bwl::format
