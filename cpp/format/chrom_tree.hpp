#pragma once
// The chromosome B+ tree: maps chromosome names to the ids used in the data and to sizes.
#include <cstdint>
#include <string>
#include <vector>

#include "format/tree_walk.hpp"  // kTreeNodeHeaderBytes, for the writer too
#include "io/byte_source.hpp"

namespace bwl::format {

constexpr uint32_t kChromTreeMagic = 0x78CA8C91;
// The chromosome B+ tree's on-disk layout (read here, written by writer/bbi_trees); its nodes are
// walked by format/tree_walk.
constexpr size_t kChromTreeHeaderBytes = 32;
// The one rule for a chromosome name, the reader's and the writer's: 1 to kMaxChromNameBytes
// bytes, no NUL (names are stored NUL-padded to the tree's key size, which the reader takes up
// to this bound; UCSC's own limit is far below it).
constexpr size_t kMaxChromNameBytes = 4096;

// What is wrong with `name` as a chromosome name, or an empty string when nothing is.
std::string chrom_name_problem(const std::string& name);
// `name` as a message shows it: a NUL as \0, other control bytes as \xNN, and only its first
// 60 bytes when it is longer.
std::string printable_name(const std::string& name);

struct ChromInfo {
  std::string name;
  uint32_t id = 0;    // the id data sections and the R-tree use
  uint32_t size = 0;  // bases
};

// Reads every leaf of the tree at `offset`, in tree (= file) order. Any depth and any block
// size (1 included) are accepted; a node visited twice, a wrong value size, a name that is not
// UTF-8, duplicate names or ids, or a node past the end of the file throw FormatError with the offset.
std::vector<ChromInfo> read_chrom_tree(const io::ByteSource& file, uint64_t offset);

}  // namespace bwl::format
