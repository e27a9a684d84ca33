// The cache of decoded blocks (engine/block_cache.hpp), its use by the CPU backend, and
// preload (engine/block_preload.hpp): LRU order and the byte bound, equality with the uncached
// path, concurrent batches over a tiny cache, corrupt blocks never cached.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bbi_builder.hpp"
#include "real_data.hpp"
#include "common/errors.hpp"
#include "common/thread_pool.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/block_cache.hpp"
#include "engine/block_preload.hpp"
#include "engine/collection.hpp"

using namespace bwl::test;
using bwl::engine::BatchRequest;
using bwl::engine::BlockCache;
using bwl::engine::CachedBlock;
using bwl::engine::CachedRuns;
using bwl::engine::Collection;

namespace {

CachedBlock runs_of(size_t n, float value) {
  auto e = std::make_shared<CachedRuns>();
  for (size_t i = 0; i < n; ++i) e->runs.push_back({0, static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1), value});
  return e;
}

// A file of `n_chroms` chromosomes of 40 kb, bedGraph and fixedStep sections with NaN values,
// two sections a block, some blocks running from one chromosome into the next.
FileSpec many_block_spec(uint32_t seed, bool compressed) {
  std::mt19937 rng(seed);
  FileSpec s;
  s.compressed = compressed;
  s.chroms = {{"chr1", 40000}, {"chr2", 40000}, {"chrX", 40000}};
  struct Section {
    Bytes bytes;
    uint32_t chrom, start, end;
  };
  std::vector<Section> sections;
  for (uint32_t c = 0; c < s.chroms.size(); ++c) {
    uint32_t pos = rng() % 50;
    while (pos + 2000 < s.chroms[c].size) {
      const uint32_t first = pos;
      if (rng() % 2 == 0) {
        std::vector<BedGraphItem> items;
        for (int i = 0; i < 40; ++i) {
          const uint32_t len = 1 + rng() % 30;
          items.push_back({pos, pos + len, rng() % 17 == 0 ? NAN : static_cast<float>(rng() % 1000) / 8.0f});
          pos += len + rng() % 5;
        }
        sections.push_back({bedgraph_section(c, items), c, first, pos});
      } else {
        std::vector<float> values;
        for (int i = 0; i < 40; ++i) values.push_back(static_cast<float>(rng() % 1000) / 4.0f);
        pos += 39 * 10 + 7;
        sections.push_back({fixedstep_section(c, first, 10, 7, values), c, first, pos});
      }
      pos += rng() % 200;
    }
  }
  for (size_t i = 0; i < sections.size(); i += 2) {
    Block b{};
    b.start_chrom = sections[i].chrom;
    b.start_base = sections[i].start;
    for (size_t j = i; j < std::min(sections.size(), i + 2); ++j) {
      b.data.insert(b.data.end(), sections[j].bytes.begin(), sections[j].bytes.end());
      b.end_chrom = sections[j].chrom;
      b.end_base = sections[j].end;
    }
    s.blocks.push_back(b);
  }
  return s;
}

BatchRequest random_request(const Collection& c, std::mt19937& rng, size_t batch, int64_t length) {
  BatchRequest r;
  for (size_t i = 0; i < batch; ++i) {
    const uint32_t chrom = static_cast<uint32_t>(rng() % c.chrom_names().size());
    const int64_t size = c.chrom_sizes()[chrom];
    r.chroms.push_back(chrom);
    r.starts.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(size + length)) - length / 2);
  }
  r.length = length;
  for (uint32_t f = 0; f < c.n_files(); ++f) {
    r.tracks.push_back(f);
    r.scales.push_back(1.0f);
  }
  return r;
}

std::vector<uint8_t> run_cpu(bwl::cpu::CpuBatchProcessor& processor, const Collection& c, const BatchRequest& r) {
  const auto plan = bwl::engine::plan_batch(c, r);
  std::vector<uint8_t> out(plan.batch * plan.cells * plan.n_tracks * (r.dtype == bwl::DType::BFloat16 ? 2 : 4));
  processor.load(c, r, out.data());
  return out;
}

// The requests of one sweep: windows, NaN and other defaults, bfloat16, scales, subsets.
std::vector<BatchRequest> sweep_requests(const Collection& c, uint32_t seed, int64_t length) {
  std::mt19937 rng(seed);
  std::vector<BatchRequest> out;
  for (uint32_t window : {1u, 3u, 128u}) {
    for (float default_value : {0.0f, NAN, 5.5f}) {
      for (bwl::DType dtype : {bwl::DType::Float32, bwl::DType::BFloat16}) {
        BatchRequest r = random_request(c, rng, 16, length);
        r.window_size = window;
        r.default_value = default_value;
        r.dtype = dtype;
        if (window == 3) {
          r.tracks = {static_cast<uint32_t>(c.n_files() - 1), 0};
          r.scales = {0.5f, -3.0f};
        }
        out.push_back(r);
      }
    }
  }
  return out;
}

// Runs the sweep twice (cold, then warm) on a collection with a cache of `cache_bytes`, and
// compares each batch with the same batch on an uncached collection of the same files.
void expect_cached_equals_uncached(const std::vector<std::string>& paths, uint64_t cache_bytes, const std::string& what,
                                   int64_t length = 1000) {
  Collection plain(paths, 1, 0);
  Collection cached(paths, 1, cache_bytes);
  bwl::cpu::CpuBatchProcessor processor(2);
  const std::vector<BatchRequest> requests = sweep_requests(plain, 5, length);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto want = run_cpu(processor, plain, requests[i]);
      const auto got = run_cpu(processor, cached, requests[i]);
      ASSERT_EQ(got.size(), want.size());
      ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0) << what << " pass " << pass << " request " << i;
      ASSERT_LE(cached.cache().info().bytes, cache_bytes) << what;
    }
  }
  const bwl::engine::CacheInfo info = cached.cache().info();
  if (cache_bytes >= (64u << 20)) {  // each block was read once, then served from the cache
    EXPECT_EQ(info.misses, info.blocks) << what;
    EXPECT_EQ(info.evictions, 0u) << what;
    EXPECT_GE(info.hits, info.misses) << what;
  }
}

// Bytes the cache holds after one batch of `r` with an unbounded cache.
uint64_t one_batch_bytes(const std::vector<std::string>& paths, const BatchRequest& r) {
  Collection c(paths, 1, uint64_t{1} << 40);
  bwl::cpu::CpuBatchProcessor processor(1);
  run_cpu(processor, c, r);
  return c.cache().info().bytes;
}

}  // namespace

TEST(BlockCache, EvictsTheLeastRecentlyUsedFirst) {
  const uint64_t entry = BlockCache::entry_bytes(10);
  BlockCache cache(3 * entry, 1);
  cache.insert(0, 1, runs_of(10, 1));
  cache.insert(0, 2, runs_of(10, 2));
  cache.insert(1, 1, runs_of(10, 3));
  ASSERT_NE(cache.find(0, 1), nullptr);  // (0, 1) is now the most recently used
  cache.insert(0, 4, runs_of(10, 4));    // evicts (0, 2), the least recently used
  EXPECT_FALSE(cache.contains(0, 2));
  EXPECT_TRUE(cache.contains(0, 1));
  EXPECT_TRUE(cache.contains(1, 1));
  EXPECT_TRUE(cache.contains(0, 4));
  cache.insert(0, 5, runs_of(10, 5));  // then (1, 1)
  EXPECT_FALSE(cache.contains(1, 1));
  EXPECT_TRUE(cache.contains(0, 1));
  const bwl::engine::CacheInfo info = cache.info();
  EXPECT_EQ(info.hits, 1u);
  EXPECT_EQ(info.misses, 0u);
  EXPECT_EQ(info.evictions, 2u);
  EXPECT_EQ(info.blocks, 3u);
  EXPECT_EQ(info.bytes, 3 * entry);
  EXPECT_EQ(info.max_bytes, 3 * entry);
  EXPECT_EQ(cache.find(0, 2), nullptr);
  EXPECT_EQ(cache.info().misses, 1u);
}

TEST(BlockCache, AHitEntryAtTheBackIsPromotedNotEvicted) {
  // Lazy promotion: a hit stamps the entry; eviction moves a stamped entry at the back to the
  // front and evicts the next one that was not used since it was placed.
  const uint64_t entry = BlockCache::entry_bytes(10);
  BlockCache cache(3 * entry, 1);
  for (uint32_t b = 1; b <= 3; ++b) cache.insert(0, b, runs_of(10, static_cast<float>(b)));
  ASSERT_NE(cache.find(0, 1), nullptr);  // the oldest, now used
  ASSERT_NE(cache.find(0, 2), nullptr);  // the next, used after it
  cache.insert(0, 4, runs_of(10, 4));    // (0, 1) and (0, 2) are promoted; (0, 3) goes
  EXPECT_FALSE(cache.contains(0, 3));
  cache.insert(0, 5, runs_of(10, 5));  // the promoted ones are unused since: (0, 1) goes first
  EXPECT_FALSE(cache.contains(0, 1));
  EXPECT_TRUE(cache.contains(0, 2));
  EXPECT_TRUE(cache.contains(0, 4));
  EXPECT_TRUE(cache.contains(0, 5));
  ASSERT_NE(cache.find(0, 2), nullptr);
  cache.set_max_bytes(0);  // turning the cache off empties it, hits or not
  EXPECT_EQ(cache.info().blocks, 0u);
  EXPECT_EQ(cache.info().bytes, 0u);
}

TEST(BlockCache, NeverHoldsMoreThanItsBound) {
  BlockCache cache(BlockCache::entry_bytes(100) + BlockCache::entry_bytes(50), 1);
  cache.insert(0, 0, runs_of(1000, 1));  // larger than the whole bound: not stored
  EXPECT_FALSE(cache.contains(0, 0));
  cache.insert(0, 1, runs_of(100, 1));
  cache.insert(0, 2, runs_of(50, 1));
  EXPECT_EQ(cache.info().bytes, cache.max_bytes());
  cache.insert(0, 3, runs_of(60, 1));  // evicts (0, 1) only: (0, 2) + (0, 3) fit
  EXPECT_FALSE(cache.contains(0, 1));
  EXPECT_TRUE(cache.contains(0, 2));
  EXPECT_LE(cache.info().bytes, cache.max_bytes());
  cache.set_max_bytes(BlockCache::entry_bytes(60));  // shrinking evicts at once
  EXPECT_FALSE(cache.contains(0, 2));
  EXPECT_TRUE(cache.contains(0, 3));
  EXPECT_EQ(cache.info().blocks, 1u);
}

TEST(BlockCache, InsertIfRoomNeverEvicts) {
  BlockCache cache(2 * BlockCache::entry_bytes(10), 1);
  EXPECT_TRUE(cache.insert_if_room(0, 1, runs_of(10, 1)));
  EXPECT_TRUE(cache.insert_if_room(0, 2, runs_of(10, 1)));
  EXPECT_FALSE(cache.insert_if_room(0, 3, runs_of(10, 1)));
  EXPECT_TRUE(cache.insert_if_room(0, 1, runs_of(10, 1)));  // already held
  EXPECT_EQ(cache.info().evictions, 0u);
  EXPECT_FALSE(cache.contains(0, 3));
}

TEST(BlockCache, ZeroBytesCachesNothing) {
  BlockCache cache(0, 1);
  EXPECT_FALSE(cache.enabled());
  cache.insert(0, 1, runs_of(1, 1));
  EXPECT_EQ(cache.find(0, 1), nullptr);
  const bwl::engine::CacheInfo info = cache.info();
  EXPECT_EQ(info.blocks + info.bytes + info.hits + info.misses + info.evictions, 0u);
}

TEST(BlockCache, AnEvictedEntryStaysValidForWhoeverHoldsIt) {
  BlockCache cache(BlockCache::entry_bytes(10), 1);
  cache.insert(0, 1, runs_of(10, 7.0f));
  const CachedBlock held = cache.find(0, 1);
  cache.insert(0, 2, runs_of(10, 8.0f));  // evicts (0, 1)
  ASSERT_FALSE(cache.contains(0, 1));
  ASSERT_EQ(held->runs.size(), 10u);
  EXPECT_EQ(held->runs[9].value, 7.0f);
}

TEST(BlockCache, ShardsSplitTheBound) {
  EXPECT_EQ(BlockCache::shards_for(0), 1u);
  EXPECT_EQ(BlockCache::shards_for(BlockCache::kMinShardBytes * 3), 3u);
  EXPECT_EQ(BlockCache::shards_for(uint64_t{1} << 40), BlockCache::kMaxShards);
  BlockCache cache(4 * BlockCache::entry_bytes(4) * 8, 8);
  for (uint32_t b = 0; b < 1000; ++b) cache.insert(b % 3, b, runs_of(4, 1));
  const bwl::engine::CacheInfo info = cache.info();
  EXPECT_LE(info.bytes, info.max_bytes);
  EXPECT_GT(info.blocks, 8u);
  EXPECT_EQ(info.blocks + info.evictions, 1000u);
}

// find_many: the same entries, counters and recency as one find() per key, over many shards,
// with keys repeated and keys missing; an empty list and a cache turned off find nothing.
TEST(BlockCache, FindManyEqualsAFindPerKey) {
  const uint64_t entry = BlockCache::entry_bytes(4);
  BlockCache many(64 * entry * 8, 8), one(64 * entry * 8, 8);
  for (uint32_t b = 0; b < 300; b += 2) {  // odd blocks are never inserted
    many.insert(b % 5, b, runs_of(4, static_cast<float>(b)));
    one.insert(b % 5, b, runs_of(4, static_cast<float>(b)));
  }
  std::mt19937 rng(3);
  std::vector<BlockCache::BlockKey> keys;
  for (int i = 0; i < 500; ++i) {
    const uint32_t b = rng() % 300;
    keys.push_back({b % 5, b});
  }
  keys.push_back(keys.front());  // a key twice
  std::vector<CachedBlock> found(keys.size());
  many.find_many(keys.data(), keys.size(), found.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    const CachedBlock expected = one.find(keys[i].file, keys[i].block);
    ASSERT_EQ(found[i] == nullptr, expected == nullptr) << "key " << i;
    if (found[i]) EXPECT_EQ(found[i]->runs[0].value, static_cast<float>(keys[i].block));
  }
  EXPECT_EQ(many.info().hits, one.info().hits);
  EXPECT_EQ(many.info().misses, one.info().misses);
  // Recency: the entries found are those a flood of new ones evicts last, in both caches.
  for (uint32_t b = 1000; b < 1400; ++b) {
    many.insert(0, b, runs_of(4, 0));
    one.insert(0, b, runs_of(4, 0));
  }
  for (uint32_t b = 0; b < 300; b += 2) EXPECT_EQ(many.contains(b % 5, b), one.contains(b % 5, b)) << "block " << b;
  many.find_many(keys.data(), 0, found.data());  // nothing asked: nothing counted
  EXPECT_EQ(many.info().hits + many.info().misses, one.info().hits + one.info().misses);
  BlockCache off(0, 1);
  found.assign(keys.size(), runs_of(1, 1));
  off.find_many(keys.data(), keys.size(), found.data());
  EXPECT_TRUE(std::all_of(found.begin(), found.end(), [](const CachedBlock& e) { return e == nullptr; }));
  EXPECT_EQ(off.info().hits + off.info().misses, 0u);
}

TEST(BlockCache, ConcurrentUseKeepsEveryEntryWhole) {
  // Many threads find and insert over a tiny two-shard cache: an entry found is always the one
  // inserted for that key (its runs carry the key), and the bound always holds.
  BlockCache cache(6 * BlockCache::entry_bytes(32), 2);
  std::atomic<bool> torn{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < 20000; ++i) {
        const uint32_t block = rng() % 40;
        CachedBlock e;
        if (i % 2 == 0) {
          e = cache.find(1, block);
        } else {  // the batched lookup, under the same contention
          const BlockCache::BlockKey key{1, block};
          cache.find_many(&key, 1, &e);
        }
        if (e) {
          for (const auto& run : e->runs) torn = torn || run.value != static_cast<float>(block);
        } else {
          cache.insert(1, block, runs_of(32, static_cast<float>(block)));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(torn.load());
  EXPECT_LE(cache.info().bytes, cache.max_bytes());
  EXPECT_EQ(cache.info().hits + cache.info().misses, 8u * 20000u);
}

TEST(CachedBatches, EqualTheUncachedPathOnGeneratedFiles) {
  TempFile a(build_bigwig(many_block_spec(1, true)));
  TempFile b(build_bigwig(many_block_spec(2, true)));
  TempFile raw(build_bigwig(many_block_spec(3, false)));
  const std::vector<std::string> paths{a.path(), b.path(), raw.path()};
  Collection probe(paths, 1);
  const uint64_t batch = one_batch_bytes(paths, sweep_requests(probe, 5, 1000).front());
  ASSERT_GT(batch, 0u);
  expect_cached_equals_uncached(paths, batch / 3, "smaller than one batch");
  expect_cached_equals_uncached(paths, batch, "exactly one batch");
  expect_cached_equals_uncached(paths, uint64_t{1} << 30, "larger than every batch");
  expect_cached_equals_uncached(paths, uint64_t{1} << 30, "long windows", 5000);
}

TEST(CachedBatches, EqualTheUncachedPathOnTheRealFiles) {
  const std::vector<std::string> paths = bwl::test::real_bigwig_paths();
  ASSERT_GE(paths.size(), 10u);
  for (const std::string& path : paths) {
    const uint64_t batch = one_batch_bytes({path}, sweep_requests(Collection({path}, 1), 5, 1000).front());
    expect_cached_equals_uncached({path}, batch / 2 + 1, path + " (small cache)");
    expect_cached_equals_uncached({path}, uint64_t{1} << 30, path);
  }
}

TEST(CachedBatches, AWarmBatchReadsNothingFromTheFiles) {
  TempFile a(build_bigwig(many_block_spec(4, true)));
  Collection c({a.path()}, 1, uint64_t{1} << 30);
  bwl::cpu::CpuBatchProcessor processor(2);
  std::mt19937 rng(3);
  const BatchRequest r = random_request(c, rng, 32, 2000);
  const auto cold = run_cpu(processor, c, r);
  const bwl::engine::CacheInfo after_cold = c.cache().info();
  EXPECT_EQ(after_cold.hits, 0u);
  EXPECT_EQ(after_cold.blocks, after_cold.misses);
  const auto warm = run_cpu(processor, c, r);
  EXPECT_EQ(warm, cold);
  EXPECT_EQ(c.cache().info().hits, after_cold.misses);
  EXPECT_EQ(c.cache().info().misses, after_cold.misses);
}

TEST(CachedBatches, ConcurrentBatchesOverATinyCacheMatchTheUncachedPath) {
  TempFile a(build_bigwig(many_block_spec(6, true)));
  TempFile b(build_bigwig(many_block_spec(7, true)));
  const std::vector<std::string> paths{a.path(), b.path()};
  Collection plain(paths, 1, 0);
  Collection cached(paths, 1, 8 * BlockCache::entry_bytes(200));
  std::vector<BatchRequest> requests = sweep_requests(plain, 9, 700);
  std::vector<std::vector<uint8_t>> want;
  bwl::cpu::CpuBatchProcessor reference(1);
  for (const auto& r : requests) want.push_back(run_cpu(reference, plain, r));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      bwl::cpu::CpuBatchProcessor processor(2);  // as a loader worker: its own processor, the shared cache
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < requests.size(); ++i) {
          const size_t k = (i + static_cast<size_t>(t) * 5) % requests.size();
          if (run_cpu(processor, cached, requests[k]) != want[k]) ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(cached.cache().info().evictions, 0u);
  EXPECT_LE(cached.cache().info().bytes, cached.cache().max_bytes());
}

TEST(CachedBatches, ACorruptBlockRaisesOnEveryReadAndIsNeverCached) {
  FileSpec spec = many_block_spec(8, true);
  Layout layout;
  Bytes bytes = build_bigwig(spec, &layout);
  bytes[layout.block_offsets[1] + 4] ^= 0xFF;
  bytes[layout.block_offsets[1] + 5] ^= 0xFF;
  TempFile bad(bytes);
  Collection c({bad.path()}, 1, uint64_t{1} << 30);
  BatchRequest r;
  r.chroms = {static_cast<uint32_t>(c.find_chrom("chr1"))};
  r.starts = {0};
  r.length = 40000;
  r.tracks = {0};
  r.scales = {1.0f};
  bwl::cpu::CpuBatchProcessor processor(1);
  for (int i = 0; i < 3; ++i) EXPECT_THROW(run_cpu(processor, c, r), bwl::FormatError) << "read " << i;
  EXPECT_FALSE(c.cache().contains(0, 1));
  bwl::ThreadPool pool(2);
  EXPECT_THROW(bwl::engine::preload_blocks(c, r.chroms, {0}, {40000}, pool), bwl::FormatError);
  EXPECT_FALSE(c.cache().contains(0, 1));
  EXPECT_THROW(run_cpu(processor, c, r), bwl::FormatError);
}

TEST(Preload, FillsTheCacheSoThatBatchesOnlyHit) {
  TempFile a(build_bigwig(many_block_spec(10, true)));
  TempFile b(build_bigwig(many_block_spec(11, false)));
  const std::vector<std::string> paths{a.path(), b.path()};
  Collection c(paths, 1, uint64_t{1} << 30);
  Collection plain(paths, 1, 0);
  bwl::ThreadPool pool(2);
  const uint32_t chr2 = static_cast<uint32_t>(c.find_chrom("chr2"));
  const auto result = bwl::engine::preload_blocks(c, {chr2, chr2}, {1000, -50}, {9000, 500}, pool);
  EXPECT_FALSE(result.full);
  EXPECT_GT(result.blocks, 0u);
  EXPECT_EQ(result.cached, result.blocks);
  EXPECT_EQ(c.cache().info().blocks, result.blocks);
  BatchRequest r;
  r.chroms = {chr2, chr2};
  r.starts = {1000, 5000};
  r.length = 4000;
  r.tracks = {0, 1};
  r.scales = {1.0f, 1.0f};
  bwl::cpu::CpuBatchProcessor processor(2);
  EXPECT_EQ(run_cpu(processor, c, r), run_cpu(processor, plain, r));
  EXPECT_EQ(c.cache().info().misses, 0u);
  EXPECT_GT(c.cache().info().hits, 0u);
  // Again: nothing new is decoded.
  EXPECT_EQ(bwl::engine::preload_blocks(c, {chr2}, {1000}, {9000}, pool).cached,
            bwl::engine::preload_blocks(c, {chr2}, {1000}, {9000}, pool).blocks);
}

TEST(Preload, StopsAtTheBoundWithoutEvicting) {
  TempFile a(build_bigwig(many_block_spec(12, true)));
  Collection c({a.path()}, 1, 5 * BlockCache::entry_bytes(200));
  bwl::ThreadPool pool(2);
  const uint32_t chr1 = static_cast<uint32_t>(c.find_chrom("chr1"));
  const auto result = bwl::engine::preload_blocks(c, {chr1}, {0}, {40000}, pool);
  EXPECT_TRUE(result.full);
  EXPECT_LT(result.cached, result.blocks);
  EXPECT_GT(result.cached, 0u);
  EXPECT_EQ(c.cache().info().evictions, 0u);
  EXPECT_LE(c.cache().info().bytes, c.cache().max_bytes());
  Collection off({a.path()}, 1, 0);
  const auto none = bwl::engine::preload_blocks(off, {chr1}, {0}, {40000}, pool);
  EXPECT_EQ(none.cached, 0u);
  EXPECT_TRUE(none.full);
  EXPECT_EQ(off.cache().info().blocks, 0u);
}

TEST(CachedRuns, OrderedRunsAreSearchedForAWindowsStretch) {
  using bwl::stages::Run;
  const std::vector<Run> runs{{0, 10, 20, 1}, {0, 20, 30, 2}, {0, 40, 50, 3}, {1, 0, 5, 4}, {1, 5, 9, 5}};
  const auto entry = CachedRuns::make(runs.data(), static_cast<uint32_t>(runs.size()));
  ASSERT_TRUE(entry->ordered);
  EXPECT_EQ(entry->extent.first_chrom, 0u);
  EXPECT_EQ(entry->extent.first_start, 10u);
  EXPECT_EQ(entry->extent.last_chrom, 1u);
  EXPECT_EQ(entry->extent.last_end, 9u);
  auto stretch = [&](uint32_t chrom, uint32_t lo, uint32_t hi) {
    const auto [first, n] = CachedRuns::window_stretch(entry->runs.data(), 5, entry->extent, chrom, lo, hi);
    return std::make_pair(static_cast<int>(first - entry->runs.data()), n);
  };
  EXPECT_EQ(stretch(0, 15, 41), std::make_pair(0, 3u));
  EXPECT_EQ(stretch(0, 20, 40), std::make_pair(1, 1u));  // [10, 20) ends at lo; [40, 50) starts at hi
  EXPECT_EQ(stretch(0, 30, 40).second, 0u);              // the gap between runs
  EXPECT_EQ(stretch(1, 4, 6), std::make_pair(3, 2u));
  EXPECT_EQ(stretch(2, 0, 100).second, 0u);
  // Overlapping, unsorted or empty runs: not ordered, so the fill reads them all.
  for (const std::vector<Run>& bad :
       {std::vector<Run>{{0, 10, 20, 1}, {0, 15, 30, 2}}, std::vector<Run>{{0, 20, 30, 1}, {0, 0, 10, 2}},
        std::vector<Run>{{1, 0, 10, 1}, {0, 20, 30, 2}}, std::vector<Run>{{0, 10, 10, 1}}}) {
    EXPECT_FALSE(CachedRuns::make(bad.data(), static_cast<uint32_t>(bad.size()))->ordered);
  }
}

TEST(CachedRuns, TheStretchFromAHintEqualsABinarySearchOfTheWholeBlock) {
  // window_stretch searches outward from a guess made from the block's span: a block of
  // uneven runs (one long run among short ones, gaps) makes the guess wrong both ways.
  using bwl::stages::Run;
  std::vector<Run> runs;
  uint32_t at = 100;
  for (uint32_t i = 0; i < 300; ++i) {
    const uint32_t length = i == 40 ? 5000 : 1 + (i * 7) % 23;
    runs.push_back({3, at, at + length, static_cast<float>(i)});
    at += length + (i % 5 == 0 ? 17 : 0);
  }
  const auto entry = CachedRuns::make(runs.data(), static_cast<uint32_t>(runs.size()));
  ASSERT_TRUE(entry->ordered);
  const Run* first = entry->runs.data();
  const Run* end = first + runs.size();
  for (uint32_t chrom : {2u, 3u, 4u}) {
    for (uint32_t lo = 0; lo < at + 50; lo += 13) {
      for (uint32_t width : {1u, 40u, 1000u}) {
        const uint32_t hi = lo + width;
        const Run* begin = std::partition_point(
            first, end, [&](const Run& r) { return r.chrom_id < chrom || (r.chrom_id == chrom && r.end <= lo); });
        const Run* stop = std::partition_point(
            begin, end, [&](const Run& r) { return r.chrom_id < chrom || (r.chrom_id == chrom && r.start < hi); });
        const auto [got, n] =
            CachedRuns::window_stretch(first, static_cast<uint32_t>(runs.size()), entry->extent, chrom, lo, hi);
        ASSERT_EQ(got, begin) << chrom << " " << lo << " " << hi;
        ASSERT_EQ(n, static_cast<uint32_t>(stop - begin)) << chrom << " " << lo << " " << hi;
      }
    }
  }
  EXPECT_EQ(CachedRuns::window_stretch(first, 0, bwl::engine::RunsExtent{}, 3, 0, 10).second, 0u);
}
