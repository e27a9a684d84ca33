#include "writer/bbi_trees.hpp"

#include <algorithm>
#include <tuple>

#include "common/errors.hpp"
#include "format/block_index.hpp"
#include "format/chrom_tree.hpp"

namespace bwl::writer {
namespace {

// The layout is the reader's (format/chrom_tree.hpp, format/block_index.hpp): one definition.
constexpr uint32_t kBPlusMagic = format::kChromTreeMagic;
constexpr uint32_t kCirTreeMagic = format::kRTreeMagic;
constexpr uint64_t kNodeHeaderBytes = format::kTreeNodeHeaderBytes;
constexpr uint64_t kBPlusHeaderBytes = format::kChromTreeHeaderBytes;
constexpr uint64_t kCirHeaderBytes = format::kRTreeHeaderBytes;
constexpr uint64_t kCirLeafItemBytes = format::kRTreeLeafItemBytes;
constexpr uint64_t kCirInternalItemBytes = format::kRTreeInnerItemBytes;

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Node counts per level, leaves first: level 0 has ceil(n / fanout) nodes, each level above
// ceil(previous / fanout), up to a single root. Never empty: n == 0 gives one empty leaf.
std::vector<uint64_t> node_counts(uint64_t n, uint64_t fanout) {
  std::vector<uint64_t> counts{std::max<uint64_t>(1, ceil_div(n, fanout))};
  while (counts.back() > 1) counts.push_back(ceil_div(counts.back(), fanout));
  return counts;
}

void node_header(Bytes& b, bool leaf, uint64_t count) {
  put_u8(b, leaf ? 1 : 0);
  put_u8(b, 0);
  put_u16(b, static_cast<uint16_t>(count));
}

// Byte offsets (from the first node) at which each level starts, written root first. Every
// node but a level's last holds `fanout` items, so node j of a level starts at
// level_start + j * full_node_bytes.
struct LevelLayout {
  std::vector<uint64_t> start;  // indexed like node_counts (0 = leaves)
  uint64_t total = 0;
};

LevelLayout lay_out(const std::vector<uint64_t>& counts, uint64_t n_items, uint64_t leaf_item, uint64_t internal_item) {
  LevelLayout layout;
  layout.start.assign(counts.size(), 0);
  uint64_t pos = 0;
  for (size_t level = counts.size(); level-- > 0;) {
    layout.start[level] = pos;
    const uint64_t items = level == 0 ? n_items : counts[level - 1];
    const uint64_t item_bytes = level == 0 ? leaf_item : internal_item;
    pos += counts[level] * kNodeHeaderBytes + items * item_bytes;
  }
  layout.total = pos;
  return layout;
}

}  // namespace

Bytes chrom_bplus_tree(const std::vector<ChromEntry>& chroms, uint64_t tree_offset) {
  if (chroms.empty()) throw InvalidArgument("a bigWig needs at least one chromosome");
  size_t key_size = 1;
  for (const auto& c : chroms) key_size = std::max(key_size, c.name.size());
  for (size_t i = 1; i < chroms.size(); ++i)
    if (!(chroms[i - 1].name < chroms[i].name)) throw Error("internal error: chromosome tree input not sorted");
  const uint64_t n = chroms.size();
  const uint64_t fanout = std::min<uint64_t>(kIndexBlockSize, n);
  const auto counts = node_counts(n, fanout);
  // Leaf (key, id, size) and internal (key, child offset) items have the same width.
  const uint64_t item_bytes = key_size + 8;
  const LevelLayout layout = lay_out(counts, n, item_bytes, item_bytes);
  const uint64_t full_node = kNodeHeaderBytes + fanout * item_bytes;
  const uint64_t nodes_start = tree_offset + kBPlusHeaderBytes;

  Bytes b;
  b.reserve(kBPlusHeaderBytes + layout.total);
  put_u32(b, kBPlusMagic);
  put_u32(b, static_cast<uint32_t>(fanout));
  put_u32(b, static_cast<uint32_t>(key_size));
  put_u32(b, 8);
  put_u64(b, n);
  put_u64(b, 0);
  for (size_t level = counts.size(); level-- > 0;) {
    // Item k of a level stands for node k of the level below, whose first chromosome is
    // k * fanout^level: its key is that chromosome's name.
    const uint64_t items = level == 0 ? n : counts[level - 1];
    uint64_t span = 1;
    for (size_t l = 0; l < level; ++l) span *= fanout;
    for (uint64_t node = 0; node < counts[level]; ++node) {
      const uint64_t first = node * fanout;
      const uint64_t count = std::min(fanout, items - first);
      node_header(b, level == 0, count);
      for (uint64_t k = first; k < first + count; ++k) {
        const ChromEntry& key_chrom = chroms[k * span];
        put_padded(b, key_chrom.name, key_size);
        if (level == 0) {
          put_u32(b, key_chrom.id);
          put_u32(b, key_chrom.size);
        } else {
          put_u64(b, nodes_start + layout.start[level - 1] + k * full_node);
        }
      }
    }
  }
  return b;
}

Bytes cir_tree(const std::vector<IndexedBlock>& blocks, uint64_t tree_offset, uint64_t end_file_offset,
               uint32_t items_per_slot) {
  const uint64_t n = blocks.size();
  const uint64_t fanout = kIndexBlockSize;
  const auto counts = node_counts(n, fanout);
  const LevelLayout layout = lay_out(counts, n, kCirLeafItemBytes, kCirInternalItemBytes);
  const uint64_t nodes_start = tree_offset + kCirHeaderBytes;

  // The range each node covers, level by level from the leaves up: from its first item's
  // start to the largest (chromosome, end) among its items.
  struct Range {
    uint32_t sc, s, ec, e;
  };
  auto widen = [](Range& r, const Range& x) {
    if (std::tie(x.ec, x.e) > std::tie(r.ec, r.e)) {
      r.ec = x.ec;
      r.e = x.e;
    }
  };
  std::vector<std::vector<Range>> ranges(counts.size());
  std::vector<Range> items(n);
  for (uint64_t i = 0; i < n; ++i)
    items[i] = {blocks[i].start_chrom, blocks[i].start, blocks[i].end_chrom, blocks[i].end};
  for (size_t level = 0; level < counts.size(); ++level) {
    const std::vector<Range>& below = level == 0 ? items : ranges[level - 1];
    auto& mine = ranges[level];
    for (uint64_t node = 0; node < counts[level]; ++node) {
      const uint64_t first = node * fanout;
      const uint64_t last = std::min<uint64_t>(first + fanout, below.size());
      Range r = first < last ? below[first] : Range{0, 0, 0, 0};
      for (uint64_t k = first + 1; k < last; ++k) widen(r, below[k]);
      mine.push_back(r);
    }
  }

  Bytes b;
  b.reserve(kCirHeaderBytes + layout.total);
  const Range whole = ranges.back().front();
  put_u32(b, kCirTreeMagic);
  put_u32(b, static_cast<uint32_t>(fanout));
  put_u64(b, n);
  put_u32(b, whole.sc);
  put_u32(b, whole.s);
  put_u32(b, whole.ec);
  put_u32(b, whole.e);
  put_u64(b, end_file_offset);
  put_u32(b, items_per_slot);
  put_u32(b, 0);

  for (size_t level = counts.size(); level-- > 0;) {
    const uint64_t n_items = level == 0 ? n : counts[level - 1];
    const uint64_t full_child =
        kNodeHeaderBytes + fanout * (level - 1 == 0 ? kCirLeafItemBytes : kCirInternalItemBytes);
    for (uint64_t node = 0; node < counts[level]; ++node) {
      const uint64_t first = node * fanout;
      const uint64_t count = std::min(fanout, n_items - std::min(first, n_items));
      node_header(b, level == 0, count);
      for (uint64_t k = first; k < first + count; ++k) {
        const Range& r = level == 0 ? items[k] : ranges[level - 1][k];
        put_u32(b, r.sc);
        put_u32(b, r.s);
        put_u32(b, r.ec);
        put_u32(b, r.e);
        if (level == 0) {
          put_u64(b, blocks[k].offset);
          put_u64(b, blocks[k].size);
        } else {
          put_u64(b, nodes_start + layout.start[level - 1] + k * full_child);
        }
      }
    }
  }
  return b;
}

}  // namespace bwl::writer
