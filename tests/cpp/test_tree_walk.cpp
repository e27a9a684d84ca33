// format/tree_walk: the one walker of the chromosome B+ tree and the data R-tree. Both trees get
// the same limits and the same wording of what is wrong with them, named by tree.
#include "format/tree_walk.hpp"
#include "io/random_access_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "format/bigwig_file.hpp"
#include "format/block_index.hpp"
#include "format/chrom_tree.hpp"

using namespace bwl::test;
using bwl::format::BigWigFile;

namespace {

FileSpec deep_spec() {
  FileSpec s;
  s.chroms = {{"chrA", 1000}, {"chrB", 500}, {"chrC", 300}};
  for (uint32_t b = 0; b < 5; ++b) {
    s.blocks.push_back(Block{bedgraph_section(0, {{b * 100, b * 100 + 50, float(b)}}), 0, b * 100, 0, b * 100 + 50});
  }
  s.chrom_tree_block_size = 2;  // the roots are inner nodes
  s.rtree_block_size = 2;
  return s;
}

std::string open_error(const Bytes& b) {
  TempFile tmp(b);
  try {
    BigWigFile f(tmp.path());
  } catch (const bwl::FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

// Appends a chain of `n` inner nodes, each with one item whose child is the next node, and
// returns the first node's offset. `item_bytes` is the tree's inner item size (child at its end).
uint64_t append_chain(Bytes& b, size_t n, size_t item_bytes) {
  const uint64_t first = b.size();
  for (size_t i = 0; i < n; ++i) {
    put_u8(b, 0);  // inner
    put_u8(b, 0);
    put_u16(b, 1);
    for (size_t k = 0; k + 8 < item_bytes; ++k) put_u8(b, 0);
    put_u64(b, b.size() + 8);  // the next node starts right after this pointer
  }
  return first;
}

}  // namespace

TEST(TreeWalk, DeepTreesOfBothKindsAreReadWhole) {
  TempFile tmp(build_bigwig(deep_spec()));
  BigWigFile f(tmp.path());
  ASSERT_EQ(f.chroms().size(), 3u);
  EXPECT_EQ(f.chroms()[2].name, "chrC");
  EXPECT_EQ(f.block_index().blocks().size(), 5u);
}

TEST(TreeWalk, ACycleInEitherTreeIsNamedByItsTree) {
  Layout lay;
  Bytes b = build_bigwig(deep_spec(), &lay);
  Bytes chrom_cycle = b;
  // Chromosome tree root: header 32, node header 4, key (4 bytes: "chrA"), then the child.
  patch_u64(chrom_cycle, lay.chrom_tree + 32 + 4 + 4, lay.chrom_tree + 32);
  EXPECT_NE(open_error(chrom_cycle).find("corrupt chromosome tree: node visited twice (a cycle)"), std::string::npos)
      << open_error(chrom_cycle);
  Bytes rtree_cycle = b;
  // R-tree root: header 48, node header 4, the child's extent (16 bytes), then the child.
  patch_u64(rtree_cycle, lay.index + 48 + 4 + 16, lay.index + 48);
  EXPECT_NE(open_error(rtree_cycle).find("corrupt R-tree index: node visited twice (a cycle)"), std::string::npos)
      << open_error(rtree_cycle);
}

TEST(TreeWalk, ATreeDeeperThanTheLimitIsCorrupt) {
  Layout lay;
  const Bytes b = build_bigwig(deep_spec(), &lay);
  Bytes deep_chroms = b;
  patch_u64(deep_chroms, lay.chrom_tree + 32 + 4 + 4, append_chain(deep_chroms, bwl::format::kMaxTreeDepth + 2, 4 + 8));
  EXPECT_NE(open_error(deep_chroms).find("corrupt chromosome tree: deeper than 40 levels"), std::string::npos)
      << open_error(deep_chroms);
  Bytes deep_rtree = b;
  patch_u64(deep_rtree, lay.index + 48 + 4 + 16,
            append_chain(deep_rtree, bwl::format::kMaxTreeDepth + 2, bwl::format::kRTreeInnerItemBytes));
  EXPECT_NE(open_error(deep_rtree).find("corrupt R-tree index: deeper than 40 levels"), std::string::npos)
      << open_error(deep_rtree);
}

TEST(TreeWalk, ANodeCountPastTheEndOfTheFileIsRefusedBeforeAllocating) {
  Layout lay;
  Bytes b = build_bigwig(deep_spec(), &lay);
  b[lay.index + 48 + 2] = 0xFF;  // the root's item count: 65,535 items of 24 bytes
  b[lay.index + 48 + 3] = 0xFF;
  EXPECT_NE(open_error(b).find("R-tree node items"), std::string::npos) << open_error(b);
}

TEST(TreeWalk, VisitsLeavesInTreeOrderAndHoldsCallersToWholeItems) {
  Layout lay;
  TempFile tmp(build_bigwig(deep_spec(), &lay));
  bwl::io::RandomAccessFile file(tmp.path());
  const bwl::format::TreeShape shape{"R-tree index", "R-tree node", bwl::format::kRTreeLeafItemBytes,
                                     bwl::format::kRTreeInnerItemBytes};
  std::vector<uint32_t> starts;
  bwl::format::walk_tree(file, lay.index + 48, shape, [&](bwl::format::ByteCursor& item) {
    item.skip(4);
    starts.push_back(item.u32());
    item.skip(24);
  });
  EXPECT_EQ(starts, (std::vector<uint32_t>{0, 100, 200, 300, 400}));
  // A caller that reads part of an item would misread every item after it: a logic error, at once.
  EXPECT_THROW(bwl::format::walk_tree(file, lay.index + 48, shape, [](bwl::format::ByteCursor& item) { item.skip(8); }),
               std::logic_error);
}

TEST(TreeWalk, LeavesThatEachClaimEveryChromosomeAreRefused) {
  // 40 chromosomes, 40 blocks: valid leaves claim 40 (chromosome, block) extents; leaves that
  // each claim all 40 chromosomes (1,600) are corrupt, refused before they cost memory.
  FileSpec s;
  for (uint32_t c = 0; c < 40; ++c) {
    s.chroms.push_back({"chr" + std::to_string(c), 1000});
    s.blocks.push_back(Block{bedgraph_section(c, {{0, 10, 1.0f}}), c, 0, c, 10});
  }
  Layout lay;
  Bytes b = build_bigwig(s, &lay);
  EXPECT_EQ(open_error(b), "(no error)");
  // Leaf items of the root (a leaf node: 40 items < 256 a node): end chromosome id at +8.
  for (size_t i = 0; i < 40; ++i) {
    const size_t item = lay.index + 48 + 4 + i * bwl::format::kRTreeLeafItemBytes;
    b[item + 8] = 39;
    b[item + 9] = b[item + 10] = b[item + 11] = 0;
  }
  EXPECT_NE(open_error(b).find("corrupt R-tree index: its leaves claim more chromosomes than"), std::string::npos)
      << open_error(b);
}

// find_overlapping gallops from a guess instead of binary-searching from the middle: the blocks
// it returns must be those a scan of every extent returns, for blocks of very different spans,
// overlapping extents, a long block early on (max_end_so_far then stays high), empty and
// out-of-range queries, and blocks of several chromosomes.
TEST(BlockIndex, FindOverlappingEqualsAScanOfEveryExtent) {
  FileSpec s;
  s.chroms = {{"chrA", 5'000'000}, {"chrB", 80'000}};
  struct Claim {
    uint32_t chrom, start, end;
  };
  std::vector<Claim> claims;
  uint32_t at = 100;
  uint32_t seed = 7;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 8) % 10'000; };
  claims.push_back({0, 50, 2'000'000});  // long, early
  for (int b = 0; b < 400; ++b) {
    const uint32_t span = 1 + next() * (b % 7 == 0 ? 20 : 1);
    const uint32_t start = at - (b % 5 == 0 ? std::min<uint32_t>(at, span / 2) : 0);  // some overlap the last
    claims.push_back({0, start, start + span});
    at = start + span + next() % 300;
  }
  for (uint32_t b = 0; b < 30; ++b) claims.push_back({1, b * 2'000, b * 2'000 + 1'500});
  for (const Claim& c : claims) {
    s.blocks.push_back(
        Block{bedgraph_section(c.chrom, {{c.start, c.start + 1, 1.0f}}), c.chrom, c.start, c.chrom, c.end});
  }
  s.rtree_block_size = 16;
  TempFile tmp(build_bigwig(s));
  BigWigFile f(tmp.path());
  // Block numbers are in file order, which is the order of `claims`.
  for (uint32_t q = 0; q < 3'000; ++q) {
    const uint32_t chrom = q % 5 == 0 ? 1 : 0;
    const uint32_t limit = chrom == 0 ? at + 10'000 : 70'000;
    const uint32_t lo = static_cast<uint32_t>((uint64_t{q} * 2654435761u) % limit);
    const uint32_t hi = lo + (q % 3 == 0 ? 0 : 1 + next() * (q % 11 == 0 ? 50 : 1));
    std::vector<uint32_t> got;
    f.block_index().find_overlapping(chrom, lo, hi, got);
    std::vector<uint32_t> want;
    for (uint32_t b = 0; b < claims.size(); ++b) {
      if (claims[b].chrom == chrom && claims[b].start < hi && claims[b].end > lo && lo < hi) want.push_back(b);
    }
    ASSERT_EQ(got, want) << "chrom " << chrom << " [" << lo << ", " << hi << ")";
  }
  std::vector<uint32_t> none;
  f.block_index().find_overlapping(2, 0, 100, none);  // no such chromosome
  EXPECT_TRUE(none.empty());
}
