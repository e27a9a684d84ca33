// No file may make the reader allocate much more than the file's own size before the first data
// block is read: every size a file states is checked against the file's length before a buffer
// of that size is allocated. This binary's operator new records the largest single request.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "format/bigwig_file.hpp"
#include "format/block_survey.hpp"

namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest{0};

void note(size_t n) {
  if (!g_tracking.load(std::memory_order_relaxed)) return;
  size_t seen = g_largest.load();
  while (n > seen && !g_largest.compare_exchange_weak(seen, n)) {
  }
}

// The largest single allocation while `f` runs.
template <typename F>
size_t largest_allocation(F&& f) {
  g_largest = 0;
  g_tracking = true;
  try {
    f();
  } catch (...) {
    g_tracking = false;
    throw;
  }
  g_tracking = false;
  return g_largest.load();
}
}  // namespace

void* operator new(size_t n) {
  note(n);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

using namespace bwl::test;

namespace {

Bytes small_file(Layout* lay) {
  FileSpec s;
  s.chroms = {{"chr1", 1000}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 10, 1.0f}}), 0, 0, 0, 10});
  return build_bigwig(s, lay);
}

}  // namespace

TEST(AllocationLimits, AHugeChromosomeKeySizeIsRefusedBeforeAllocating) {
  Layout lay;
  Bytes b = small_file(&lay);
  patch_u32(b, lay.chrom_tree + 8, 4096);  // key size
  b[lay.chrom_tree + 32 + 2] = 0xFF;       // the root node claims 65535 items
  b[lay.chrom_tree + 32 + 3] = 0xFF;       // 65535 * (4096 + 8) bytes = 269 MB
  TempFile tmp(b);
  bool refused = false;
  const size_t largest = largest_allocation([&] {
    try {
      bwl::format::BigWigFile f(tmp.path());
    } catch (const bwl::FormatError& e) {
      refused = true;
      EXPECT_NE(std::string(e.what()).find("runs past the end of the file"), std::string::npos) << e.what();
    }
  });
  EXPECT_TRUE(refused);
  EXPECT_LT(largest, 64 * b.size()) << "allocated " << largest << " bytes for a file of " << b.size();
}

TEST(AllocationLimits, HugeRTreeAndZoomCountsAreRefusedBeforeAllocating) {
  Layout lay;
  Bytes b = small_file(&lay);
  b[lay.index + 48 + 2] = 0xFF;  // the R-tree root claims 65535 leaves
  b[lay.index + 48 + 3] = 0xFF;
  TempFile index_tmp(b);
  const size_t largest_index =
      largest_allocation([&] { EXPECT_THROW(bwl::format::BigWigFile f(index_tmp.path()), bwl::FormatError); });
  EXPECT_LT(largest_index, 64 * b.size());

  Bytes z = small_file(&lay);
  z[6] = 0xFF;  // zoomLevels: 65535 zoom headers of 24 bytes
  z[7] = 0xFF;
  TempFile zoom_tmp(z);
  const size_t largest_zoom = largest_allocation([&] {
    EXPECT_THROW(bwl::format::BigWigFile f(zoom_tmp.path()), bwl::FormatError);
    (void)bwl::format::survey_file(zoom_tmp.path());  // the survey records it instead
  });
  EXPECT_LT(largest_zoom, 64 * z.size());
}
