#pragma once
// The one walker of a bbi file's two on-disk trees, the chromosome B+ tree (chrom_tree) and the
// data R-tree (block_index): both are nodes of a kTreeNodeHeaderBytes header (isLeaf, reserved,
// item count) followed by fixed-size items, where an inner item ends with the 8-byte file offset
// of its child. What a leaf item means is the caller's; the walk, its limits and its errors are
// here.
#include <cstdint>
#include <functional>

#include "format/byte_cursor.hpp"
#include "io/byte_source.hpp"

namespace bwl::format {

constexpr size_t kTreeNodeHeaderBytes = 4;  // B+ tree and R-tree nodes alike
// Deeper than any tree of 2^32 items with 2 items a node could be: a deeper one is corrupt.
constexpr int kMaxTreeDepth = 40;

struct TreeShape {
  const char* name;           // "chromosome tree", "R-tree index": begins every error message
  const char* node_name;      // "chromosome tree node", "R-tree node": names what was being read
  uint64_t leaf_item_bytes;   // what on_leaf_item reads of each leaf item
  uint64_t inner_item_bytes;  // ends with the child's u64 file offset
};

// Visits the leaf items of the tree whose root node is at `root_offset`, in tree (= file) order:
// on_leaf_item(cursor) is called once per item with the cursor at the item, and reads exactly
// leaf_item_bytes of it. Throws FormatError, with the node's offset, for a tree deeper than
// kMaxTreeDepth, a node visited twice (a cycle) or a node past the end of the file; items are
// range-checked before any allocation, so a corrupt count cannot ask for more than the file holds.
void walk_tree(const io::ByteSource& file, uint64_t root_offset, const TreeShape& shape,
               const std::function<void(ByteCursor&)>& on_leaf_item);

}  // namespace bwl::format
