// The remote byte source (io::RemoteObject) with a fetcher that serves bytes from memory: reads
// equal the local file's, an open and a batch each fetch in one round, the cache keeps later
// batches off the network, and a fetcher's typed error reaches the caller.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/collection.hpp"
#include "format/bigwig_file.hpp"
#include "io/remote_object.hpp"

using namespace bwl::test;
using bwl::io::ByteRange;
using bwl::io::RemoteObject;

namespace {

// Serves every object from `bytes`; counts rounds and ranges; fails on demand.
class MemoryFetcher final : public bwl::io::RangeFetcher {
 public:
  explicit MemoryFetcher(Bytes bytes) : bytes_(std::move(bytes)) {}
  void fetch(std::vector<bwl::io::ObjectFetch>& round) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++rounds;
    if (changed) throw bwl::FileChanged("mem://track.bw: the object changed after it was opened");
    for (auto& f : round) {
      ++objects;
      for (const ByteRange& r : f.ranges) {
        ++ranges;
        auto span = std::make_shared<bwl::io::FetchedSpan>();
        span->offset = r.offset;
        span->bytes.assign(bytes_.begin() + static_cast<long>(r.offset), bytes_.begin() + static_cast<long>(r.end()));
        f.spans.push_back(std::move(span));
      }
    }
  }
  int rounds = 0, objects = 0, ranges = 0;
  bool changed = false;

 private:
  Bytes bytes_;
  std::mutex mutex_;
};

FileSpec spec() {
  FileSpec s;
  s.compressed = true;
  s.chroms = {{"chrA", 100000}, {"chrB", 5000}};
  for (uint32_t b = 0; b < 20; ++b) {
    const uint32_t start = b * 1000;
    s.blocks.push_back(Block{bedgraph_section(0, {{start, start + 500, float(b)}, {start + 600, start + 900, -1.5f}}),
                             0, start, 0, start + 900});
  }
  s.blocks.push_back(Block{fixedstep_section(1, 0, 10, 10, {3.0f, NAN}), 1, 0, 1, 20});
  return s;
}

std::vector<float> values(const bwl::format::BigWigFile& f, uint32_t start, uint32_t end) {
  std::vector<float> out(end - start);
  bwl::format::BlockScratch scratch;
  f.values(f.chrom_index("chrA"), start, end, NAN, out.data(), scratch);
  return out;
}

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i]) || (!std::isnan(a[i]) && a[i] != b[i])) return false;
  }
  return true;
}

}  // namespace

TEST(MergeRanges, MergesOverlappingAdjacentAndCloseRangesInOffsetOrder) {
  using bwl::io::merge_ranges;
  const auto merged = merge_ranges({{500, 10}, {0, 100}, {100, 50}, {120, 10}, {1000, 0}, {200, 20}}, 64, 1 << 20);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].offset, 0u);
  EXPECT_EQ(merged[0].length, 220u);  // 0-100, 100-150, 120-130 and 200-220 (a gap of 50 <= 64)
  EXPECT_EQ(merged[1].offset, 500u);  // a gap of 280 > 64; the empty range is dropped
  EXPECT_EQ(merged[1].length, 10u);
  // No merged range grows past the bound, unless one wanted range is larger by itself.
  const auto bounded = merge_ranges({{0, 60}, {60, 60}, {120, 60}, {180, 500}}, 0, 128);
  ASSERT_EQ(bounded.size(), 3u);
  EXPECT_EQ(bounded[0].length, 120u);
  EXPECT_EQ(bounded[1].offset, 120u);
  EXPECT_EQ(bounded[2].length, 500u);
}

TEST(RemoteObject, OpensInTwoRoundsAndReadsWhatTheLocalFileReads) {
  const Bytes bytes = build_bigwig(spec());
  TempFile local_file(bytes);
  auto fetcher = std::make_shared<MemoryFetcher>(bytes);
  auto object = std::make_shared<RemoteObject>("mem://track.bw", bytes.size(), "etag-1", fetcher);
  const bwl::format::BigWigFile remote(object);
  // The front (header fields read one by one), then the chromosome tree and index in one round:
  // read node by node they would be many.
  EXPECT_EQ(fetcher->rounds, 2);
  const bwl::format::BigWigFile local(local_file.path());
  ASSERT_EQ(remote.chroms().size(), local.chroms().size());
  const int rounds = fetcher->rounds, ranges = fetcher->ranges;
  EXPECT_TRUE(same(values(remote, 0, 20000), values(local, 0, 20000)));
  EXPECT_EQ(fetcher->rounds, rounds + 1) << "every block of one query in one round";
  EXPECT_EQ(fetcher->ranges, ranges + 1) << "adjacent blocks merged into one range";
}

TEST(RemoteObject, ServesReadsFromHeldSpansAndFetchesOnlyWhatIsMissing) {
  const Bytes bytes = build_bigwig(spec());
  auto fetcher = std::make_shared<MemoryFetcher>(bytes);
  RemoteObject object("mem://track.bw", bytes.size(), "etag-1", fetcher);
  std::vector<uint8_t> out(16);
  {
    const bwl::io::FetchHold hold = object.read_ahead({{100, 200}});
    EXPECT_EQ(fetcher->rounds, 1);
    object.read_exact(150, 16, out.data(), "bytes");
    EXPECT_EQ(fetcher->rounds, 1) << "inside a held span: no fetch";
    EXPECT_EQ(0, std::memcmp(out.data(), bytes.data() + 150, 16));
    EXPECT_TRUE(object.read_ahead({{120, 50}}).empty()) << "already held: nothing fetched";
    EXPECT_EQ(fetcher->rounds, 1);
  }
  object.read_exact(150, 16, out.data(), "bytes");
  EXPECT_EQ(fetcher->rounds, 2) << "once the hold is gone, a read fetches again";
  object.keep(0, Bytes(bytes.begin(), bytes.begin() + 64));
  std::vector<uint8_t> header(64);
  object.read_exact(0, 64, header.data(), "header");
  EXPECT_EQ(fetcher->rounds, 2) << "kept bytes serve reads until released";
  EXPECT_EQ(0, std::memcmp(header.data(), bytes.data(), 64));
  object.release_kept();
  object.read_exact(0, 64, header.data(), "header");
  EXPECT_EQ(fetcher->rounds, 3);
  EXPECT_THROW(object.read_exact(bytes.size() - 4, 8, header.data(), "bytes"), bwl::FormatError);

  // A read across two fetched ranges (a read group straddling the split of a merged range) is
  // served piece by piece, without a fetch.
  const bwl::io::FetchHold a = object.read_ahead({{1000, 100}});
  const bwl::io::FetchHold b = object.read_ahead({{1100, 100}});
  const int rounds = fetcher->rounds;
  std::vector<uint8_t> across(150);
  object.read_exact(1020, 150, across.data(), "bytes");
  EXPECT_EQ(fetcher->rounds, rounds);
  EXPECT_EQ(0, std::memcmp(across.data(), bytes.data() + 1020, 150));
}

TEST(RemoteObject, ABatchFetchesEveryRemoteFileInOneRoundAndTheCacheKeepsTheNextOffTheNetwork) {
  const Bytes bytes = build_bigwig(spec());
  TempFile local_file(bytes);
  auto fetcher = std::make_shared<MemoryFetcher>(bytes);
  std::vector<std::shared_ptr<const bwl::io::ByteSource>> sources = {
      std::make_shared<RemoteObject>("mem://a.bw", bytes.size(), "e", fetcher), nullptr,
      std::make_shared<RemoteObject>("mem://b.bw", bytes.size(), "e", fetcher)};
  const bwl::engine::Collection remote({"mem://a.bw", local_file.path(), "mem://b.bw"}, 1, 64 << 20, sources);
  const bwl::engine::Collection local({local_file.path(), local_file.path(), local_file.path()}, 1, 0);
  EXPECT_TRUE(remote.has_remote_files());
  EXPECT_FALSE(local.has_remote_files());

  bwl::engine::BatchRequest r;
  const auto chrA = static_cast<uint32_t>(remote.find_chrom("chrA"));
  r.chroms = {chrA, chrA, chrA};
  r.starts = {0, 5000, 12000};
  r.length = 3000;
  r.window_size = 7;
  r.tracks = {0, 1, 2};
  r.scales = {1.0f, 2.0f, 0.5f};
  bwl::cpu::CpuBatchProcessor processor(2);
  const size_t n = 3 * (3000 / 7) * 3;
  std::vector<float> got(n), want(n);
  processor.load(local, r, want.data());
  const int before = fetcher->rounds;
  processor.load(remote, r, got.data());
  EXPECT_EQ(fetcher->rounds, before + 1) << "one round for the batch";
  EXPECT_EQ(fetcher->objects, 2 * 2 + 2) << "both remote files in it (after two opens of two rounds)";
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), n * sizeof(float)));

  std::fill(got.begin(), got.end(), -7.0f);
  processor.load(remote, r, got.data());
  EXPECT_EQ(fetcher->rounds, before + 1) << "every block cached: no fetch";
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), n * sizeof(float)));
}

TEST(RemoteObject, AFetchersTypedErrorReachesTheCaller) {
  const Bytes bytes = build_bigwig(spec());
  auto fetcher = std::make_shared<MemoryFetcher>(bytes);
  auto object = std::make_shared<RemoteObject>("mem://track.bw", bytes.size(), "etag-1", fetcher);
  const bwl::format::BigWigFile remote(object);
  fetcher->changed = true;
  EXPECT_THROW(values(remote, 0, 1000), bwl::FileChanged);
  EXPECT_THROW(RemoteObject("mem://x.bw", 10, "e", nullptr), bwl::InvalidArgument);
}
