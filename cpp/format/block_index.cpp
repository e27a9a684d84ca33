#include "format/block_index.hpp"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "common/errors.hpp"
#include "format/byte_cursor.hpp"

namespace bwl::format {
namespace {

constexpr int kMaxDepth = 40;
constexpr uint32_t kChromEnd = std::numeric_limits<uint32_t>::max();

struct Leaf {
  uint32_t start_chrom_id, start_base, end_chrom_id, end_base;
  DataBlock block;
  uint64_t item_offset;  // where the leaf item lies, for error messages
};

class RTreeReader {
 public:
  explicit RTreeReader(const io::RandomAccessFile& file) : file_(file) {}

  void read_node(uint64_t node_offset, int depth) {
    const std::string& path = file_.path();
    if (depth > kMaxDepth)
      throw format_error(path, "corrupt R-tree index: deeper than " + std::to_string(kMaxDepth) + " levels",
                         node_offset);
    if (!visited_.insert(node_offset).second) {
      throw format_error(path, "corrupt R-tree index: node visited twice (a cycle)", node_offset);
    }
    std::vector<uint8_t> head(kTreeNodeHeaderBytes);
    file_.read_exact(node_offset, kTreeNodeHeaderBytes, head.data(), "R-tree node");
    const bool is_leaf = head[0] != 0;
    const uint16_t count = load_u16le(head.data() + 2);
    const uint64_t items_bytes = uint64_t{count} * (is_leaf ? kRTreeLeafItemBytes : kRTreeInnerItemBytes);
    file_.check_range(node_offset + kTreeNodeHeaderBytes, items_bytes, "R-tree node items");  // before allocating
    std::vector<uint8_t> items(items_bytes);
    file_.read_exact(node_offset + kTreeNodeHeaderBytes, items.size(), items.data(), "R-tree node items");
    ByteCursor in(items, node_offset + kTreeNodeHeaderBytes, path, "R-tree node");
    for (uint16_t i = 0; i < count; ++i) {
      Leaf leaf{};
      leaf.item_offset = in.offset();
      leaf.start_chrom_id = in.u32();
      leaf.start_base = in.u32();
      leaf.end_chrom_id = in.u32();
      leaf.end_base = in.u32();
      if (is_leaf) {
        leaf.block.offset = in.u64();
        leaf.block.size = in.u64();
        leaves_.push_back(leaf);
      } else {
        read_node(in.u64(), depth + 1);
      }
    }
  }

  std::vector<Leaf> take() { return std::move(leaves_); }

 private:
  const io::RandomAccessFile& file_;
  std::unordered_set<uint64_t> visited_;
  std::vector<Leaf> leaves_;
};

void check_leaf(const Leaf& leaf, const io::RandomAccessFile& file) {
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

BlockIndex BlockIndex::read(const io::RandomAccessFile& file, uint64_t index_offset,
                            const std::vector<ChromInfo>& chroms) {
  const std::string& path = file.path();
  std::vector<uint8_t> bytes(kRTreeHeaderBytes);
  file.read_exact(index_offset, kRTreeHeaderBytes, bytes.data(), "R-tree index header");
  if (load_u32le(bytes.data()) != kRTreeMagic)
    throw format_error(path, "corrupt R-tree index: bad magic number", index_offset);

  RTreeReader reader(file);
  reader.read_node(index_offset + kRTreeHeaderBytes, 0);
  std::vector<Leaf> leaves = reader.take();
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
  // Extents before `first` all end at or before `start`; extents from `last` on start at or after `end`.
  const size_t first = static_cast<size_t>(std::upper_bound(cb.max_end_so_far.begin(), cb.max_end_so_far.end(), start) -
                                           cb.max_end_so_far.begin());
  const size_t last =
      static_cast<size_t>(std::lower_bound(cb.extents.begin(), cb.extents.end(), end,
                                           [](const Extent& e, uint32_t value) { return e.start < value; }) -
                          cb.extents.begin());
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
