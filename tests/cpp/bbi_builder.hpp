#pragma once
// Builds bigWig files byte by byte in the tests, so that the parser and the decoders are
// checked against bytes whose every field the test chose (the Python tests cover files that
// real writers made).
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bwl::test {

using Bytes = std::vector<uint8_t>;

inline void put_u8(Bytes& b, uint8_t v) { b.push_back(v); }
inline void put_u16(Bytes& b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_f32(Bytes& b, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_u32(b, bits);
}
inline void patch_u64(Bytes& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void patch_u32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct BedGraphItem {
  uint32_t start, end;
  float value;
};
struct VarStepItem {
  uint32_t start;
  float value;
};

inline void section_header(Bytes& b, uint32_t chrom, uint32_t start, uint32_t end, uint32_t step, uint32_t span,
                           uint8_t type, uint16_t count) {
  put_u32(b, chrom);
  put_u32(b, start);
  put_u32(b, end);
  put_u32(b, step);
  put_u32(b, span);
  put_u8(b, type);
  put_u8(b, 0);
  put_u16(b, count);
}

inline Bytes bedgraph_section(uint32_t chrom, const std::vector<BedGraphItem>& items) {
  Bytes b;
  section_header(b, chrom, items.empty() ? 0 : items.front().start, items.empty() ? 0 : items.back().end, 0, 0, 1,
                 static_cast<uint16_t>(items.size()));
  for (const auto& it : items) {
    put_u32(b, it.start);
    put_u32(b, it.end);
    put_f32(b, it.value);
  }
  return b;
}

inline Bytes varstep_section(uint32_t chrom, uint32_t span, const std::vector<VarStepItem>& items) {
  Bytes b;
  section_header(b, chrom, items.empty() ? 0 : items.front().start, items.empty() ? 0 : items.back().start + span, 0,
                 span, 2, static_cast<uint16_t>(items.size()));
  for (const auto& it : items) {
    put_u32(b, it.start);
    put_f32(b, it.value);
  }
  return b;
}

inline Bytes fixedstep_section(uint32_t chrom, uint32_t start, uint32_t step, uint32_t span,
                               const std::vector<float>& values) {
  Bytes b;
  const uint32_t end = values.empty() ? start : start + static_cast<uint32_t>(values.size() - 1) * step + span;
  section_header(b, chrom, start, end, step, span, 3, static_cast<uint16_t>(values.size()));
  for (float v : values) put_f32(b, v);
  return b;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes zlib_compress(const Bytes& raw) {
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  Bytes out(len);
  if (compress2(out.data(), &len, raw.data(), static_cast<uLong>(raw.size()), 6) != Z_OK) {
    throw std::runtime_error("compress2 failed");
  }
  out.resize(len);
  return out;
}

struct Chrom {
  std::string name;
  uint32_t size;
};

// One data block: its sections' bytes and the extent the R-tree leaf claims for it.
struct Block {
  Bytes data;  // uncompressed sections
  uint32_t start_chrom, start_base, end_chrom, end_base;
};

struct FileSpec {
  std::vector<Chrom> chroms;  // chromosome id = position here
  std::vector<Block> blocks;
  bool compressed = true;
  uint16_t version = 4;
  uint32_t chrom_tree_block_size = 256;  // items per B+ tree node: 1 makes a deep tree
  uint32_t rtree_block_size = 256;       // items per R-tree node: 2 makes a deep tree
  bool add_zoom_level = false;
};

// Offsets of interesting structures in a built file, for tests that corrupt them.
struct Layout {
  uint64_t chrom_tree = 0;
  uint64_t data = 0;
  uint64_t index = 0;
  std::vector<uint64_t> block_offsets;
};

namespace detail {

// Writes a B+ tree of `n` leaves, `per_node` items a node; `leaf_item(i, bytes)` appends item i's key+value.
template <typename LeafItem, typename KeyOf>
void write_bplus(Bytes& f, size_t n, uint32_t per_node, uint32_t key_size, LeafItem leaf_item, KeyOf key_of) {
  if (per_node < 2 && n > 1) throw std::invalid_argument("a B+ tree of several items needs nodes of 2 or more");
  // Level sizes from the leaves up.
  std::vector<size_t> level_nodes;  // nodes per level, leaves first
  size_t items = n;
  do {
    const size_t nodes = (items + per_node - 1) / per_node;
    level_nodes.push_back(nodes == 0 ? 1 : nodes);
    items = level_nodes.back();
  } while (items > 1);
  const size_t item_bytes = key_size + 8;
  const size_t node_bytes = 4 + per_node * item_bytes;
  // Lay levels out root first.
  const uint64_t base = f.size();
  std::vector<uint64_t> level_start(level_nodes.size());
  uint64_t at = base;
  for (size_t l = level_nodes.size(); l-- > 0;) {
    level_start[l] = at;
    at += level_nodes[l] * node_bytes;
  }
  f.resize(at, 0);
  // A node at level l - 1 covers per_node^l leaf items: child c starts at item c * per_node^l.
  for (size_t l = 0; l < level_nodes.size(); ++l) {
    const size_t children = (l == 0) ? n : level_nodes[l - 1];
    size_t subtree = 1;
    for (size_t k = 0; k < l; ++k) subtree *= per_node;
    for (size_t node = 0; node < level_nodes[l]; ++node) {
      Bytes nb;
      const size_t first = node * per_node;
      const size_t count = first >= children ? 0 : std::min<size_t>(per_node, children - first);
      put_u8(nb, l == 0 ? 1 : 0);
      put_u8(nb, 0);
      put_u16(nb, static_cast<uint16_t>(count));
      for (size_t c = first; c < first + count; ++c) {
        if (l == 0) {
          leaf_item(c, nb);
        } else {
          key_of(c * subtree, nb);
          put_u64(nb, level_start[l - 1] + c * node_bytes);
        }
      }
      std::copy(nb.begin(), nb.end(), f.begin() + static_cast<long>(level_start[l] + node * node_bytes));
    }
  }
}

}  // namespace detail

inline Bytes build_bigwig(const FileSpec& spec, Layout* layout = nullptr) {
  Layout lay;
  Bytes f(64, 0);
  // Zoom header placeholder.
  const size_t zoom_at = f.size();
  if (spec.add_zoom_level) f.resize(f.size() + 24, 0);
  // Total summary (40 bytes): informational.
  const uint64_t summary_at = f.size();
  put_u64(f, 0);
  for (int i = 0; i < 4; ++i) put_u64(f, 0);

  // Chromosome tree.
  uint32_t key_size = 1;
  for (const auto& c : spec.chroms) key_size = std::max<uint32_t>(key_size, static_cast<uint32_t>(c.name.size()));
  lay.chrom_tree = f.size();
  put_u32(f, 0x78CA8C91);
  put_u32(f, spec.chrom_tree_block_size);
  put_u32(f, key_size);
  put_u32(f, 8);
  put_u64(f, spec.chroms.size());
  put_u64(f, 0);
  auto key = [&](size_t i, Bytes& nb) {
    std::string k = i < spec.chroms.size() ? spec.chroms[i].name : std::string();
    k.resize(key_size, '\0');
    nb.insert(nb.end(), k.begin(), k.end());
  };
  detail::write_bplus(
      f, spec.chroms.size(), spec.chrom_tree_block_size, key_size,
      [&](size_t i, Bytes& nb) {
        key(i, nb);
        put_u32(nb, static_cast<uint32_t>(i));
        put_u32(nb, spec.chroms[i].size);
      },
      key);

  // Data: count (8 bytes, never relied on) then blocks.
  lay.data = f.size();
  put_u64(f, spec.blocks.size());
  std::vector<std::pair<uint64_t, uint64_t>> stored;  // offset, size
  uint32_t max_raw = 0;
  for (const auto& blk : spec.blocks) {
    Bytes bytes = spec.compressed ? zlib_compress(blk.data) : blk.data;
    max_raw = std::max<uint32_t>(max_raw, static_cast<uint32_t>(blk.data.size()));
    stored.emplace_back(f.size(), bytes.size());
    lay.block_offsets.push_back(f.size());
    f.insert(f.end(), bytes.begin(), bytes.end());
  }

  // R-tree: header then a tree of leaves, rtree_block_size items a node.
  lay.index = f.size();
  put_u32(f, 0x2468ACE0);
  put_u32(f, spec.rtree_block_size);
  put_u64(f, spec.blocks.size());
  for (int i = 0; i < 4; ++i) put_u32(f, 0);
  put_u64(f, lay.index);
  put_u32(f, 1);
  put_u32(f, 0);
  {
    const uint32_t per = spec.rtree_block_size;
    if (per < 2 && spec.blocks.size() > 1)
      throw std::invalid_argument("an R-tree of several blocks needs nodes of 2 or more");
    const size_t n = spec.blocks.size();
    std::vector<size_t> level_nodes;
    size_t items = n;
    do {
      const size_t nodes = (items + per - 1) / per;
      level_nodes.push_back(nodes == 0 ? 1 : nodes);
      items = level_nodes.back();
    } while (items > 1);
    auto node_bytes = [&](size_t l) { return 4 + per * (l == 0 ? 32 : 24); };
    std::vector<uint64_t> level_start(level_nodes.size());
    uint64_t at = f.size();
    for (size_t l = level_nodes.size(); l-- > 0;) {
      level_start[l] = at;
      at += level_nodes[l] * node_bytes(l);
    }
    f.resize(at, 0);
    for (size_t l = 0; l < level_nodes.size(); ++l) {
      const size_t children = l == 0 ? n : level_nodes[l - 1];
      size_t subtree = 1;
      for (size_t k = 0; k < l; ++k) subtree *= per;
      for (size_t node = 0; node < level_nodes[l]; ++node) {
        Bytes nb;
        const size_t first = node * per;
        const size_t count = first >= children ? 0 : std::min<size_t>(per, children - first);
        put_u8(nb, l == 0 ? 1 : 0);
        put_u8(nb, 0);
        put_u16(nb, static_cast<uint16_t>(count));
        for (size_t c = first; c < first + count; ++c) {
          const size_t lo = l == 0 ? c : c * subtree;
          const size_t hi = l == 0 ? c : std::min(n, (c + 1) * subtree) - 1;
          put_u32(nb, spec.blocks[lo].start_chrom);
          put_u32(nb, spec.blocks[lo].start_base);
          put_u32(nb, spec.blocks[hi].end_chrom);
          put_u32(nb, spec.blocks[hi].end_base);
          if (l == 0) {
            put_u64(nb, stored[c].first);
            put_u64(nb, stored[c].second);
          } else {
            put_u64(nb, level_start[l - 1] + c * node_bytes(l - 1));
          }
        }
        std::copy(nb.begin(), nb.end(), f.begin() + static_cast<long>(level_start[l] + node * node_bytes(l)));
      }
    }
  }

  if (spec.add_zoom_level) {
    // A zoom header whose data is never read by the full-resolution path.
    Bytes z;
    put_u32(z, 100);
    put_u32(z, 0);
    put_u64(z, lay.data);
    put_u64(z, lay.index);
    std::copy(z.begin(), z.end(), f.begin() + static_cast<long>(zoom_at));
  }

  // Header.
  Bytes h;
  put_u32(h, 0x888FFC26);
  put_u16(h, spec.version);
  put_u16(h, spec.add_zoom_level ? 1 : 0);
  put_u64(h, lay.chrom_tree);
  put_u64(h, lay.data);
  put_u64(h, lay.index);
  put_u16(h, 0);
  put_u16(h, 0);
  put_u64(h, 0);
  put_u64(h, spec.version >= 2 ? summary_at : 0);
  put_u32(h, spec.compressed ? std::max<uint32_t>(max_raw, 1) : 0);
  put_u64(h, 0);
  std::copy(h.begin(), h.end(), f.begin());
  if (layout) *layout = lay;
  return f;
}

// A file in the test's temporary directory, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(const Bytes& bytes, const std::string& stem = "bwl_test") {
    static int counter = 0;
    path_ =
        testing_temp_dir() + "/" + stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".bw";
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static std::string testing_temp_dir() {
    const char* t = std::getenv("TMPDIR");
    return t ? t : "/tmp";
  }
  std::string path_;
};

}  // namespace bwl::test
