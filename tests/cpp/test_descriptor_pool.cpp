// The pool of local files' descriptors: under a capacity smaller than the files open, reads stay
// exact, at most the capacity stays open, and a file replaced while its descriptor was closed is
// refused on the reopen (never read as the other file).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "io/descriptor_pool.hpp"
#include "io/random_access_file.hpp"

using bwl::io::DescriptorPool;
using bwl::io::RandomAccessFile;
using namespace bwl::test;

namespace {

// Restores the pool's own capacity whatever the test does.
struct CapacityFor {
  explicit CapacityFor(size_t n) { DescriptorPool::instance().set_capacity(n); }
  ~CapacityFor() { DescriptorPool::instance().fit_to_limit(); }
};

}  // namespace

TEST(DescriptorPool, KeepsAtMostItsCapacityOpenAndReopensOnRead) {
  std::vector<std::unique_ptr<TempFile>> temps;
  for (int i = 0; i < 6; ++i) temps.push_back(std::make_unique<TempFile>(Bytes(100, static_cast<uint8_t>(i))));
  const size_t before = DescriptorPool::instance().open_files();
  CapacityFor capacity(before + 2);
  std::vector<std::unique_ptr<RandomAccessFile>> files;
  for (const auto& t : temps) files.push_back(std::make_unique<RandomAccessFile>(t->path()));
  EXPECT_LE(DescriptorPool::instance().open_files(), before + 2);
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < files.size(); ++i) {
      uint8_t b = 0xFF;
      files[i]->read_exact(50, 1, &b, "byte");
      EXPECT_EQ(b, i);
      EXPECT_LE(DescriptorPool::instance().open_files(), before + 2);
    }
  }
  {
    // A lease keeps its file open, even past the capacity, while it lives.
    const RandomAccessFile::Lease a(*files[0]), b(*files[1]), c(*files[2]);
    EXPECT_GE(a.fd(), 0);
    EXPECT_EQ(DescriptorPool::instance().open_files(), before + 3);
  }
  EXPECT_LE(DescriptorPool::instance().open_files(), before + 2);
  files.clear();
  EXPECT_EQ(DescriptorPool::instance().open_files(), before);
}

TEST(DescriptorPool, AFileReplacedWhileClosedIsRefusedOnReopen) {
  TempFile first(Bytes(64, 1)), other(Bytes(64, 2));
  const size_t before = DescriptorPool::instance().open_files();
  CapacityFor capacity(before + 1);
  RandomAccessFile a(first.path());
  RandomAccessFile b(other.path());  // a's descriptor is closed to make room
  TempFile replacement(Bytes(64, 3));
  ASSERT_EQ(std::rename(replacement.path().c_str(), first.path().c_str()), 0);
  uint8_t byte = 0;
  EXPECT_THROW(a.read_exact(0, 1, &byte, "byte"), bwl::FileChanged);
  b.read_exact(0, 1, &byte, "byte");
  EXPECT_EQ(byte, 2);
}
