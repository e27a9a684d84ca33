#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "format/bigwig_file.hpp"
#include "io/mapped_file.hpp"
#include "io/random_access_file.hpp"

using namespace bwl::test;
using bwl::format::BigWigFile;
using bwl::format::BlockScratch;

namespace {

// chrA (id 0, 1000 bp): bedGraph [10,20)=1, [20,25)=2, gap, variableStep span 5 at 100 (=3), 200 (=NaN)
// chrB (id 1, 500 bp): fixedStep start 50 step 10 span 5: 4, 5, 6
// chrC (id 2, 300 bp): no data at all
FileSpec three_chrom_spec(bool compressed) {
  FileSpec s;
  s.compressed = compressed;
  s.chroms = {{"chrA", 1000}, {"chrB", 500}, {"chrC", 300}};
  s.blocks.push_back(Block{bedgraph_section(0, {{10, 20, 1.0f}, {20, 25, 2.0f}}), 0, 10, 0, 25});
  s.blocks.push_back(Block{varstep_section(0, 5, {{100, 3.0f}, {200, NAN}}), 0, 100, 0, 205});
  s.blocks.push_back(Block{fixedstep_section(1, 50, 10, 5, {4.0f, 5.0f, 6.0f}), 1, 50, 1, 75});
  return s;
}

std::vector<float> values(const BigWigFile& f, const std::string& chrom, uint32_t start, uint32_t end,
                          float dflt = NAN) {
  std::vector<float> out(end - start);
  BlockScratch scratch;
  f.values(f.chrom_index(chrom), start, end, dflt, out.data(), scratch);
  return out;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return false;
    if (!std::isnan(a[i]) && a[i] != b[i]) return false;
  }
  return true;
}

template <typename E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST(BigWigFile, ReadsChromosomesAndHeader) {
  TempFile tmp(build_bigwig(three_chrom_spec(true)));
  BigWigFile f(tmp.path());
  ASSERT_EQ(f.chroms().size(), 3u);
  EXPECT_EQ(f.chroms()[0].name, "chrA");
  EXPECT_EQ(f.chroms()[1].size, 500u);
  EXPECT_EQ(f.header().version, 4);
  EXPECT_TRUE(f.header().compressed());
  EXPECT_EQ(f.block_index().blocks().size(), 3u);
  EXPECT_EQ(f.find_chrom("chrC"), 2);
  EXPECT_EQ(f.find_chrom("chrZ"), -1);
}

TEST(BigWigFile, ValuesOfAllThreeSectionTypes) {
  TempFile tmp(build_bigwig(three_chrom_spec(true)));
  BigWigFile f(tmp.path());
  auto a = values(f, "chrA", 8, 27, -1.0f);
  const std::vector<float> expected_a = {-1, -1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, -1, -1};
  EXPECT_EQ(a, expected_a);
  auto a2 = values(f, "chrA", 99, 106, 0.0f);
  EXPECT_EQ(a2, (std::vector<float>{0, 3, 3, 3, 3, 3, 0}));
  auto a3 = values(f, "chrA", 199, 206, 0.0f);
  EXPECT_EQ(a3[0], 0.0f);
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(std::isnan(a3[i])) << "stored NaN must stay NaN";
  EXPECT_EQ(a3[6], 0.0f);
  auto b = values(f, "chrB", 48, 78, 0.0f);
  const std::vector<float> expected_b = {0, 0, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 5, 5, 5,
                                         5, 5, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 0, 0, 0};
  EXPECT_EQ(b, expected_b);
  EXPECT_EQ(values(f, "chrC", 0, 300, 7.0f), std::vector<float>(300, 7.0f));
}

TEST(BigWigFile, CompressedAndUncompressedReadIdentically) {
  TempFile packed(build_bigwig(three_chrom_spec(true)));
  TempFile raw(build_bigwig(three_chrom_spec(false)));
  BigWigFile fp(packed.path()), fr(raw.path());
  EXPECT_FALSE(fr.header().compressed());
  for (const char* chrom : {"chrA", "chrB", "chrC"}) {
    const uint32_t size = fp.chroms()[static_cast<size_t>(fp.find_chrom(chrom))].size;
    EXPECT_TRUE(same_floats(values(fp, chrom, 0, size), values(fr, chrom, 0, size))) << chrom;
  }
}

TEST(BigWigFile, IntervalsAreUnclippedAndInFileOrder) {
  TempFile tmp(build_bigwig(three_chrom_spec(true)));
  BigWigFile f(tmp.path());
  BlockScratch scratch;
  auto runs = f.intervals(0, 15, 102, scratch);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].start, 10u);
  EXPECT_EQ(runs[0].end, 20u);
  EXPECT_EQ(runs[1].start, 20u);
  EXPECT_EQ(runs[2].start, 100u);
  EXPECT_EQ(runs[2].end, 105u);
  EXPECT_TRUE(f.intervals(2, 0, 300, scratch).empty());
  EXPECT_EQ(f.intervals(1, 0, 500, scratch).size(), 3u);
}

TEST(BigWigFile, ChromosomeTreeWithBlockSizeOne) {
  // UCSC writers use min(blockSize, chromCount): a one-chromosome file has block size 1.
  FileSpec s;
  s.chroms = {{"only", 100}};
  s.blocks.push_back(Block{bedgraph_section(0, {{10, 20, 4.0f}}), 0, 10, 0, 20});
  s.chrom_tree_block_size = 1;
  TempFile tmp(build_bigwig(s));
  BigWigFile f(tmp.path());
  ASSERT_EQ(f.chroms().size(), 1u);
  EXPECT_EQ(values(f, "only", 9, 12, 0.0f), (std::vector<float>{0, 4, 4}));
}

TEST(BigWigFile, DeepChromosomeTreeAndDeepRTree) {
  FileSpec s;
  for (int c = 0; c < 7; ++c) s.chroms.push_back({"contig_" + std::to_string(c), 10000});
  for (uint32_t c = 0; c < 7; ++c) {
    for (uint32_t k = 0; k < 3; ++k) {
      s.blocks.push_back(Block{bedgraph_section(c, {{k * 100, k * 100 + 50, static_cast<float>(c * 10 + k)}}), c,
                               k * 100, c, k * 100 + 50});
    }
  }
  s.chrom_tree_block_size = 2;  // 7 chromosomes: three levels
  s.rtree_block_size = 2;       // 21 blocks: five levels
  TempFile tmp(build_bigwig(s));
  BigWigFile f(tmp.path());
  ASSERT_EQ(f.chroms().size(), 7u);
  EXPECT_EQ(f.block_index().blocks().size(), 21u);
  for (uint32_t c = 0; c < 7; ++c) {
    auto v = values(f, "contig_" + std::to_string(c), 0, 300, 0.0f);
    for (uint32_t k = 0; k < 3; ++k) {
      EXPECT_EQ(v[k * 100], static_cast<float>(c * 10 + k));
      EXPECT_EQ(v[k * 100 + 49], static_cast<float>(c * 10 + k));
      EXPECT_EQ(v[k * 100 + 50], 0.0f);
    }
  }
}

TEST(BigWigFile, BlockSpanningTwoChromosomesServesBoth) {
  FileSpec s;
  s.chroms = {{"c1", 100}, {"c2", 100}};
  s.blocks.push_back(
      Block{concat({bedgraph_section(0, {{90, 100, 1.0f}}), bedgraph_section(1, {{0, 10, 2.0f}})}), 0, 90, 1, 10});
  TempFile tmp(build_bigwig(s));
  BigWigFile f(tmp.path());
  EXPECT_EQ(values(f, "c1", 95, 100, 0.0f), std::vector<float>(5, 1.0f));
  EXPECT_EQ(values(f, "c2", 5, 12, 0.0f), (std::vector<float>{2, 2, 2, 2, 2, 0, 0}));
}

TEST(BigWigFile, VersionOneWithoutTotalSummaryOpens) {
  FileSpec s = three_chrom_spec(true);
  s.version = 1;
  s.add_zoom_level = true;
  TempFile tmp(build_bigwig(s));
  BigWigFile f(tmp.path());
  EXPECT_EQ(f.header().version, 1);
  EXPECT_FALSE(f.header().total_summary.has_value());
  EXPECT_EQ(f.header().zooms.size(), 1u);
  EXPECT_EQ(f.header().zooms[0].reduction_level, 100u);
}

TEST(BigWigFile, ConcurrentReadsFromOneFileAgree) {
  TempFile tmp(build_bigwig(three_chrom_spec(true)));
  BigWigFile f(tmp.path());
  const auto expected = values(f, "chrA", 0, 1000);
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      BlockScratch scratch;
      std::vector<float> out(1000);
      int good = 0;
      for (int i = 0; i < 200; ++i) {
        f.values(0, 0, 1000, NAN, out.data(), scratch);
        good += same_floats(out, expected);
      }
      ok[static_cast<size_t>(t)] = good;
    });
  }
  for (auto& th : threads) th.join();
  for (int good : ok) EXPECT_EQ(good, 200);
}

// --- errors -----------------------------------------------------------------------------

TEST(BigWigFileErrors, MissingFile) { EXPECT_THROW(BigWigFile("/nonexistent/dir/track.bw"), bwl::FileNotFound); }

TEST(BigWigFileErrors, NotABbiFile) {
  TempFile tmp(Bytes(100, 'x'));
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("not a bigWig"), std::string::npos) << msg;
  EXPECT_NE(msg.find(tmp.path()), std::string::npos) << msg;
}

TEST(BigWigFileErrors, TinyFile) {
  TempFile tmp(Bytes{0x26, 0xFC});
  EXPECT_THROW(BigWigFile(tmp.path()), bwl::FormatError);
}

TEST(BigWigFileErrors, BigBedIsNamed) {
  Bytes b = build_bigwig(three_chrom_spec(true));
  patch_u32(b, 0, 0x8789F2EB);
  TempFile tmp(b);
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("bigBed"), std::string::npos) << msg;
}

TEST(BigWigFileErrors, UnsupportedVersion) {
  Bytes b = build_bigwig(three_chrom_spec(true));
  b[4] = 9;
  TempFile tmp(b);
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("version 9"), std::string::npos) << msg;
}

TEST(BigWigFileErrors, TruncatedHeader) {
  Bytes b = build_bigwig(three_chrom_spec(true));
  b.resize(40);
  TempFile tmp(b);
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(BigWigFileErrors, TruncatedIndexNamesTheOffset) {
  Layout lay;
  Bytes b = build_bigwig(three_chrom_spec(true), &lay);
  b.resize(lay.index + 60);  // the header survives, the root node's items do not
  TempFile tmp(b);
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset"), std::string::npos) << msg;
}

TEST(BigWigFileErrors, BadChromTreeMagic) {
  Layout lay;
  Bytes b = build_bigwig(three_chrom_spec(true), &lay);
  b[lay.chrom_tree] ^= 0xFF;
  TempFile tmp(b);
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("chromosome tree"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(lay.chrom_tree)), std::string::npos) << msg;
}

TEST(BigWigFileErrors, ChromosomeNameThatIsNotUtf8) {
  // A stray byte, a cut sequence, a surrogate, an overlong '/': Python could not take these as str.
  for (const std::string name : {"chr\x94", "chr\xC3", "c\xED\xA0\x80", "c\xC0\xAF"}) {
    FileSpec s = three_chrom_spec(true);
    s.chroms[1].name = name;
    Layout lay;
    TempFile tmp(build_bigwig(s, &lay));
    auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
    EXPECT_NE(msg.find("corrupt chromosome tree: a chromosome name is not UTF-8 text"), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte offset"), std::string::npos) << msg;
  }
  FileSpec s = three_chrom_spec(true);
  s.chroms[1].name = "chr\xC3\xA9\xF0\x9F\xA7\xAC";  // two and four bytes, well formed
  TempFile tmp(build_bigwig(s));
  BigWigFile f(tmp.path());
  EXPECT_EQ(f.chroms()[1].name, s.chroms[1].name);
}

TEST(BigWigFileErrors, ChromTreeCycleIsDetected) {
  FileSpec s = three_chrom_spec(true);
  s.chrom_tree_block_size = 2;  // three chromosomes: the root is an inner node
  Layout lay;
  Bytes b = build_bigwig(s, &lay);
  // Root node's first child pointer: node header at chrom_tree + 32, item key (4 bytes) then the pointer.
  patch_u64(b, lay.chrom_tree + 32 + 4 + 4, lay.chrom_tree + 32);
  TempFile tmp(b);
  auto msg = message_of<bwl::FormatError>([&] { BigWigFile f(tmp.path()); });
  EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
}

TEST(BigWigFileErrors, BlockPointingPastTheEndOfTheFile) {
  Layout lay;
  Bytes b = build_bigwig(three_chrom_spec(true), &lay);
  // First leaf item of the R-tree root: header 48 + node header 4; dataOffset at +16.
  patch_u64(b, lay.index + 48 + 4 + 16, b.size() + 100);
  TempFile tmp(b);
  EXPECT_THROW(BigWigFile(tmp.path()), bwl::FormatError);
}

TEST(BigWigFileErrors, CorruptCompressedBlockNamesItsOffset) {
  Layout lay;
  Bytes b = build_bigwig(three_chrom_spec(true), &lay);
  for (size_t i = 2; i < 12; ++i) b[lay.block_offsets[0] + i] ^= 0x5A;
  TempFile tmp(b);
  BigWigFile f(tmp.path());  // opening reads no data block
  auto msg = message_of<bwl::FormatError>([&] { values(f, "chrA", 0, 50); });
  EXPECT_NE(msg.find("corrupt data block"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(lay.block_offsets[0])), std::string::npos) << msg;
  EXPECT_NO_THROW(values(f, "chrB", 0, 500));
}

TEST(BigWigFileErrors, CorruptSectionInUncompressedBlock) {
  Layout lay;
  Bytes b = build_bigwig(three_chrom_spec(false), &lay);
  b[lay.block_offsets[2] + 20] = 9;  // section type
  TempFile tmp(b);
  BigWigFile f(tmp.path());
  auto msg = message_of<bwl::FormatError>([&] { values(f, "chrB", 0, 500); });
  EXPECT_NE(msg.find("unknown data section type"), std::string::npos) << msg;
}

TEST(BigWigFileErrors, UnknownChromosomeAndBadRanges) {
  TempFile tmp(build_bigwig(three_chrom_spec(true)));
  BigWigFile f(tmp.path());
  EXPECT_THROW(f.chrom_index("chr1"), bwl::UnknownChromosome);
  EXPECT_THROW(f.check_range(0, -1, 10), bwl::InvalidArgument);
  EXPECT_THROW(f.check_range(0, 0, 1001), bwl::InvalidArgument);
  EXPECT_THROW(f.check_range(0, 20, 10), bwl::InvalidArgument);
  EXPECT_NO_THROW(f.check_range(0, 0, 1000));
  EXPECT_NO_THROW(f.check_range(0, 5, 5));
}

TEST(BigWigFileErrors, EveryTruncationOfAFileFailsCleanly) {
  // Cutting a file anywhere must give a FormatError at open or at read, never a crash.
  FileSpec s = three_chrom_spec(true);
  s.chrom_tree_block_size = 3;  // nodes exactly full: every byte of the file is needed
  s.rtree_block_size = 3;
  const Bytes full = build_bigwig(s);
  for (size_t cut = 0; cut < full.size(); cut += 7) {
    TempFile tmp(Bytes(full.begin(), full.begin() + static_cast<long>(cut)));
    try {
      BigWigFile f(tmp.path());
      values(f, "chrA", 0, 1000);
      values(f, "chrB", 0, 500);
      ADD_FAILURE() << "a file cut at " << cut << " of " << full.size() << " bytes read without error";
    } catch (const bwl::FormatError&) {
    }
  }
}

namespace {

// A compressed file of 48 blocks of 400 items of random values each (about 3 KB a block
// compressed): its data run over many pages.
FileSpec many_block_spec() {
  FileSpec s;
  s.compressed = true;
  s.chroms = {{"chrA", 48 * 4000}};
  uint32_t state = 12345;
  for (uint32_t b = 0; b < 48; ++b) {
    std::vector<BedGraphItem> items;
    for (uint32_t i = 0; i < 400; ++i) {
      state = state * 1664525u + 1013904223u;
      items.push_back(BedGraphItem{b * 4000 + i * 10, b * 4000 + i * 10 + 7, static_cast<float>(state >> 8)});
    }
    s.blocks.push_back(Block{bedgraph_section(0, items), 0, b * 4000, 0, b * 4000 + 3997});
  }
  return s;
}

}  // namespace

// A local file's blocks are inflated where they lie in its mapping; through pread (a file the
// system would not map) they read the same.
TEST(BigWigFile, MappedAndPreadReadsAgree) {
  TempFile tmp(build_bigwig(many_block_spec()));
  const BigWigFile mapped(tmp.path());
  ASSERT_NE(mapped.file().mapping(), nullptr);
  const BigWigFile plain(std::make_shared<const bwl::io::RandomAccessFile>(tmp.path()));
  ASSERT_EQ(plain.file().mapping(), nullptr);
  const auto a = values(mapped, "chrA", 0, 48 * 4000);
  EXPECT_TRUE(same_floats(a, values(plain, "chrA", 0, 48 * 4000)));
  EXPECT_EQ(a[4000 * 5 + 13], a[4000 * 5 + 16]);  // one item's bases
  EXPECT_TRUE(std::isnan(a[4000 * 5 + 17]));      // the gap after it
}

// A file truncated after it was mapped: a read of a block past the new end faults inside the
// guarded inflate, and ends as a pread of it ends, in FormatError ("truncated"), not in SIGBUS.
TEST(BigWigFileErrors, TruncatedAfterOpenIsAFormatErrorNotABusError) {
  Layout lay;
  const Bytes b = build_bigwig(many_block_spec(), &lay);
  TempFile tmp(b);
  const BigWigFile f(tmp.path());
  ASSERT_NE(f.file().mapping(), nullptr);
  const long page = ::sysconf(_SC_PAGESIZE);
  ASSERT_GT(b.size(), static_cast<size_t>(4 * page));
  // Cut at a page boundary: every byte after it lies on a page wholly past the end (SIGBUS),
  // none on a page that reads as zeros.
  ASSERT_EQ(::truncate(tmp.path().c_str(), static_cast<off_t>(page)), 0);
  // The reader's own decode, below the per-read change check (which would name the new size at
  // once): what a read racing a truncation meets.
  std::vector<uint32_t> all_blocks(f.block_index().blocks().size());
  for (uint32_t i = 0; i < all_blocks.size(); ++i) all_blocks[i] = i;
  BlockScratch scratch;
  size_t decoded = 0;
  const auto msg = message_of<bwl::FormatError>([&] {
    bwl::format::decode_blocks(f.file(), f.header(), f.block_index(), all_blocks, scratch,
                               [&](const bwl::stages::Run*, uint32_t) { ++decoded; });
  });
  EXPECT_LT(decoded, all_blocks.size());
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find(tmp.path()), std::string::npos) << msg;
}
