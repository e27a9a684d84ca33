#include "format/chrom_tree.hpp"

#include <unordered_set>

#include "common/errors.hpp"
#include "format/byte_cursor.hpp"

namespace bwl::format {
namespace {

// Deeper than any tree of 2^32 chromosomes with block size 2 could be.
constexpr int kMaxDepth = 40;

struct TreeShape {
  uint32_t key_size;
  uint32_t item_bytes;  // key + 8: (id, size) in leaves, child offset in inner nodes
};

class ChromTreeReader {
 public:
  ChromTreeReader(const io::RandomAccessFile& file, TreeShape shape) : file_(file), shape_(shape) {}

  void read_node(uint64_t node_offset, int depth) {
    const std::string& path = file_.path();
    if (depth > kMaxDepth)
      throw format_error(path, "corrupt chromosome tree: deeper than " + std::to_string(kMaxDepth) + " levels",
                         node_offset);
    if (!visited_.insert(node_offset).second) {
      throw format_error(path, "corrupt chromosome tree: node visited twice (a cycle)", node_offset);
    }
    std::vector<uint8_t> head(kTreeNodeHeaderBytes);
    file_.read_exact(node_offset, kTreeNodeHeaderBytes, head.data(), "chromosome tree node");
    const bool is_leaf = head[0] != 0;
    const uint16_t count = load_u16le(head.data() + 2);
    const uint64_t items_bytes = uint64_t{count} * shape_.item_bytes;
    file_.check_range(node_offset + kTreeNodeHeaderBytes, items_bytes,
                      "chromosome tree node items");  // before allocating
    std::vector<uint8_t> items(items_bytes);
    file_.read_exact(node_offset + kTreeNodeHeaderBytes, items.size(), items.data(), "chromosome tree node items");
    ByteCursor in(items, node_offset + kTreeNodeHeaderBytes, path, "chromosome tree node");
    for (uint16_t i = 0; i < count; ++i) {
      const uint64_t item_offset = in.offset();
      const uint8_t* key = in.bytes(shape_.key_size);
      if (is_leaf) {
        ChromInfo chrom;
        size_t len = 0;
        while (len < shape_.key_size && key[len] != 0) ++len;  // keys are NUL-padded
        chrom.name.assign(reinterpret_cast<const char*>(key), len);
        chrom.id = in.u32();
        chrom.size = in.u32();
        if (chrom.name.empty()) throw format_error(path, "corrupt chromosome tree: empty chromosome name", item_offset);
        if (!names_.insert(chrom.name).second) {
          throw format_error(path, "corrupt chromosome tree: chromosome '" + chrom.name + "' listed twice",
                             item_offset);
        }
        if (!ids_.insert(chrom.id).second) {
          throw format_error(path, "corrupt chromosome tree: chromosome id " + std::to_string(chrom.id) + " used twice",
                             item_offset);
        }
        chroms_.push_back(std::move(chrom));
      } else {
        read_node(in.u64(), depth + 1);
      }
    }
  }

  std::vector<ChromInfo> take() { return std::move(chroms_); }

 private:
  const io::RandomAccessFile& file_;
  TreeShape shape_;
  std::unordered_set<uint64_t> visited_;
  std::unordered_set<std::string> names_;
  std::unordered_set<uint32_t> ids_;
  std::vector<ChromInfo> chroms_;
};

}  // namespace

std::vector<ChromInfo> read_chrom_tree(const io::RandomAccessFile& file, uint64_t offset) {
  const std::string& path = file.path();
  std::vector<uint8_t> bytes(kChromTreeHeaderBytes);
  file.read_exact(offset, kChromTreeHeaderBytes, bytes.data(), "chromosome tree header");
  ByteCursor in(bytes, offset, path, "chromosome tree header");
  const uint32_t magic = in.u32();
  if (magic != kChromTreeMagic) throw format_error(path, "corrupt chromosome tree: bad magic number", offset);
  in.skip(4);  // blockSize: the number of items a node may hold; each node states its own count
  const uint32_t key_size = in.u32();
  const uint32_t val_size = in.u32();
  const uint64_t item_count = in.u64();
  if (item_count == 0) return {};  // a file with no chromosomes: writers leave the rest unset
  if (val_size != 8) {
    throw format_error(path, "corrupt chromosome tree: value size " + std::to_string(val_size) + " (a bigWig stores 8)",
                       offset + 12);
  }
  if (key_size == 0 || key_size > 4096) {
    throw format_error(path, "corrupt chromosome tree: key size " + std::to_string(key_size), offset + 8);
  }
  ChromTreeReader reader(file, TreeShape{key_size, key_size + 8});
  reader.read_node(offset + kChromTreeHeaderBytes, 0);
  return reader.take();
}

}  // namespace bwl::format
