#include "format/tree_walk.hpp"

#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/errors.hpp"
#include "common/little_endian.hpp"

namespace bwl::format {
namespace {

class TreeWalker {
 public:
  TreeWalker(const io::ByteSource& file, const TreeShape& shape, const std::function<void(ByteCursor&)>& on_leaf_item)
      : file_(file), shape_(shape), on_leaf_item_(on_leaf_item) {}

  void visit(uint64_t node_offset, int depth) {
    const std::string& path = file_.path();
    if (depth > kMaxTreeDepth) {
      throw format_error(
          path, std::string("corrupt ") + shape_.name + ": deeper than " + std::to_string(kMaxTreeDepth) + " levels",
          node_offset);
    }
    if (!visited_.insert(node_offset).second) {
      throw format_error(path, std::string("corrupt ") + shape_.name + ": node visited twice (a cycle)", node_offset);
    }
    uint8_t head[kTreeNodeHeaderBytes];
    file_.read_exact(node_offset, kTreeNodeHeaderBytes, head, shape_.node_name);
    const bool is_leaf = head[0] != 0;
    const uint16_t count = load_u16le(head + 2);
    const uint64_t item_bytes = is_leaf ? shape_.leaf_item_bytes : shape_.inner_item_bytes;
    const uint64_t items_offset = node_offset + kTreeNodeHeaderBytes;
    const std::string items_name = std::string(shape_.node_name) + " items";
    file_.check_range(items_offset, uint64_t{count} * item_bytes, items_name.c_str());  // before allocating
    std::vector<uint8_t> items(uint64_t{count} * item_bytes);
    file_.read_exact(items_offset, items.size(), items.data(), items_name.c_str());
    ByteCursor in(items, items_offset, path, shape_.node_name);
    for (uint16_t i = 0; i < count; ++i) {
      if (is_leaf) {
        const uint64_t item_offset = in.offset();
        on_leaf_item_(in);
        if (in.offset() - item_offset != shape_.leaf_item_bytes) {  // the contract in tree_walk.hpp
          throw std::logic_error(std::string("walk_tree: a ") + shape_.name + " leaf item was not read whole");
        }
      } else {
        in.skip(item_bytes - 8);  // the child's key or extent: the walk visits every child anyway
        visit(in.u64(), depth + 1);
      }
    }
  }

 private:
  const io::ByteSource& file_;
  const TreeShape& shape_;
  const std::function<void(ByteCursor&)>& on_leaf_item_;
  std::unordered_set<uint64_t> visited_;
};

}  // namespace

void walk_tree(const io::ByteSource& file, uint64_t root_offset, const TreeShape& shape,
               const std::function<void(ByteCursor&)>& on_leaf_item) {
  TreeWalker(file, shape, on_leaf_item).visit(root_offset, 0);
}

}  // namespace bwl::format
