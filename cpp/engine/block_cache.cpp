#include "engine/block_cache.hpp"

#include <algorithm>
#include <vector>

#include "common/errors.hpp"
#include "common/gallop.hpp"
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"

namespace bwl::engine {

std::shared_ptr<CachedRuns> CachedRuns::make(const stages::Run* runs, uint32_t n) {
  auto entry = std::make_shared<CachedRuns>();
  entry->runs.assign(runs, runs + n);
  bool ordered = true;
  for (uint32_t i = 0; i < n && ordered; ++i) {
    ordered =
        runs[i].start < runs[i].end && (i == 0 || runs[i - 1].chrom_id < runs[i].chrom_id ||
                                        (runs[i - 1].chrom_id == runs[i].chrom_id && runs[i - 1].end <= runs[i].start));
  }
  entry->ordered = ordered;
  entry->extent = RunsExtent::of(runs, n);
  return entry;
}

std::shared_ptr<CachedRuns> CachedRuns::with_room(uint32_t n) {
  auto entry = std::make_shared<CachedRuns>();
  entry->runs.resize(n);  // uninitialised (UninitialisedAllocator)
  return entry;
}

void CachedRuns::finish(CachedRuns& entry, uint32_t written) {
  entry.runs.resize(written);
  // A successful decode refused items out of order (stages::decode_sections): what it kept is
  // searchable as it is (window_stretch's contract), with no pass over the runs to check it.
  entry.ordered = true;
  entry.extent = RunsExtent::of(entry.runs.data(), written);
}

uint32_t CachedRuns::stretch_hint(uint32_t n, const RunsExtent& e, uint32_t chrom, uint32_t lo) {
  if (n == 0) return 0;
  if (e.first_chrom != chrom || e.last_chrom != chrom || e.last_end <= e.first_start) return n / 2;
  // Runs are of similar lengths, so where `lo` falls between the block's first start and last
  // end says roughly which run it is in.
  const uint64_t offset = lo > e.first_start ? lo - e.first_start : 0;
  return static_cast<uint32_t>(std::min<uint64_t>(n - 1, offset * n / (e.last_end - e.first_start)));
}

std::pair<const stages::Run*, uint32_t> CachedRuns::window_stretch(const stages::Run* first, uint32_t n,
                                                                   const RunsExtent& extent, uint32_t chrom,
                                                                   uint32_t lo, uint32_t hi) {
  if (n == 0) return {first, 0};
  // Both predicates are true for a prefix of ordered runs: chromosomes ascend, and within one
  // chromosome starts and ends ascend.
  auto ends_before = [&](const stages::Run& r) { return r.chrom_id < chrom || (r.chrom_id == chrom && r.end <= lo); };
  auto starts_before = [&](const stages::Run& r) {
    return r.chrom_id < chrom || (r.chrom_id == chrom && r.start < hi);
  };
  const stages::Run* begin = gallop(first, n, stretch_hint(n, extent, chrom, lo), ends_before);
  const stages::Run* stop = begin + (gallop(begin, static_cast<size_t>(first + n - begin), 0, starts_before) - begin);
  return {begin, static_cast<uint32_t>(stop - begin)};
}

BlockCache::BlockCache(uint64_t max_bytes, size_t n_shards) : max_bytes_(0), shards_(n_shards) {
  if (n_shards == 0) throw InvalidArgument("a block cache needs at least one shard");
  set_max_bytes(max_bytes);
}

size_t BlockCache::shard_index(Key k) const {
  // Fibonacci hashing: consecutive block numbers of one file land on different shards.
  const uint64_t h = (k * 0x9E3779B97F4A7C15ull) >> 32;
  return static_cast<size_t>(h % shards_.size());
}

CachedBlock BlockCache::find(uint32_t file, uint32_t block) {
  // One lookup, one hit rule: find_many's (a hit counts and stamps its entry, a miss counts).
  const BlockKey k{file, block};
  CachedBlock found;
  find_many(&k, 1, &found);
  return found;
}

void BlockCache::find_many(const BlockKey* keys, size_t n, CachedBlock* out) {
  std::fill(out, out + n, nullptr);
  if (!enabled() || n == 0) return;
  // The keys' indices grouped by shard (a counting sort), so that each shard is locked once.
  thread_local std::vector<size_t> first, cursor;
  thread_local std::vector<uint32_t> order;
  thread_local std::vector<Shard::Entry*> found;
  first.assign(shards_.size() + 1, 0);
  for (size_t i = 0; i < n; ++i) ++first[shard_index(key(keys[i].file, keys[i].block)) + 1];
  for (size_t g = 0; g < shards_.size(); ++g) first[g + 1] += first[g];
  cursor.assign(first.begin(), first.end() - 1);
  order.resize(n);
  found.resize(n);
  for (size_t i = 0; i < n; ++i)
    order[cursor[shard_index(key(keys[i].file, keys[i].block))]++] = static_cast<uint32_t>(i);
  for (size_t g = 0; g < shards_.size(); ++g) {
    const size_t a = first[g], b = first[g + 1];
    if (a == b) continue;
    Shard& s = shards_[g];
    std::lock_guard<std::mutex> lock(s.mutex);
    // Pass 1: each key's first node in its bucket (two loads, independent across keys).
    for (size_t j = a; j < b; ++j) {
      const Key k = key(keys[order[j]].file, keys[order[j]].block);
      const size_t bucket = s.map.bucket(k);
      const auto node = s.map.begin(bucket);
      if (node != s.map.end(bucket)) __builtin_prefetch(&*node);
    }
    // Pass 2: the lookups, whose nodes are now on their way; ask for each found entry.
    for (size_t j = a; j < b; ++j) {
      auto it = s.map.find(key(keys[order[j]].file, keys[order[j]].block));
      found[j] = it == s.map.end() ? nullptr : &*it->second;
      if (found[j] != nullptr) __builtin_prefetch(found[j]);
    }
    // Pass 3: ask for each entry's runs (their control block, beside them), then take them.
    for (size_t j = a; j < b; ++j) {
      if (found[j] != nullptr) __builtin_prefetch(found[j]->runs.get());
    }
    for (size_t j = a; j < b; ++j) {
      if (found[j] == nullptr) {
        ++s.misses;
        continue;
      }
      ++s.hits;
      found[j]->last_use = ++s.clock;  // promoted lazily, when eviction reaches it
      out[order[j]] = found[j]->runs;
    }
  }
}

bool BlockCache::contains(uint32_t file, uint32_t block) const {
  const Key k = key(file, block);
  Shard& s = shard_of(k);
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.map.count(k) != 0;
}

void BlockCache::evict_to(Shard& s, uint64_t limit) {
  while (s.bytes > limit && !s.lru.empty()) {
    auto back = std::prev(s.lru.end());
    if (back->last_use > back->placed && limit > 0) {
      // Used since it was placed: the lazy promotion of its hits (limit 0 empties the shard).
      back->placed = back->last_use = ++s.clock;
      s.lru.splice(s.lru.begin(), s.lru, back);
      continue;
    }
    s.bytes -= entry_bytes(back->runs->runs.size());
    s.map.erase(back->key);
    s.lru.pop_back();
    ++s.evictions;
  }
}

bool BlockCache::insert_locked(Shard& s, Key k, CachedBlock runs, bool may_evict) {
  if (s.map.count(k) != 0) return true;
  const uint64_t bytes = entry_bytes(runs->runs.size());
  if (bytes > s.max_bytes) return false;
  if (s.bytes + bytes > s.max_bytes) {
    if (!may_evict) return false;
    evict_to(s, s.max_bytes - bytes);
  }
  const uint64_t now = ++s.clock;
  s.lru.push_front(Shard::Entry{k, std::move(runs), now, now});
  s.map.emplace(k, s.lru.begin());
  s.bytes += bytes;
  return true;
}

void BlockCache::insert(uint32_t file, uint32_t block, CachedBlock runs) {
  if (!enabled() || !runs) return;
  const Key k = key(file, block);
  Shard& s = shard_of(k);
  std::lock_guard<std::mutex> lock(s.mutex);
  insert_locked(s, k, std::move(runs), true);
}

bool BlockCache::insert_if_room(uint32_t file, uint32_t block, CachedBlock runs) {
  if (!enabled() || !runs) return false;
  const Key k = key(file, block);
  Shard& s = shard_of(k);
  std::lock_guard<std::mutex> lock(s.mutex);
  return insert_locked(s, k, std::move(runs), false);
}

void BlockCache::set_max_bytes(uint64_t max_bytes) {
  max_bytes_.store(max_bytes, std::memory_order_relaxed);
  const uint64_t share = max_bytes / shards_.size();
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.max_bytes = share;
    evict_to(s, share);
  }
}

void BlockCache::clear() {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.lru.clear();
    s.map.clear();
    s.bytes = 0;
  }
}

CacheInfo BlockCache::info() const {
  CacheInfo info;
  info.max_bytes = max_bytes();
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mutex);
    info.hits += s.hits;
    info.misses += s.misses;
    info.evictions += s.evictions;
    info.blocks += s.map.size();
    info.bytes += s.bytes;
  }
  return info;
}

void find_cached_blocks(const Collection& collection, const BatchPlan& plan, size_t first, size_t last,
                        CachedBlock* hits) {
  std::fill(hits + first, hits + last, nullptr);
  BlockCache& cache = collection.cache();
  if (!cache.enabled() || first >= last) return;
  thread_local std::vector<BlockCache::BlockKey> keys;
  keys.resize(last - first);
  for (size_t i = first; i < last; ++i) keys[i - first] = {plan.blocks[i].file, plan.blocks[i].block};
  cache.find_many(keys.data(), keys.size(), hits + first);
}

void find_cached_blocks(const Collection& collection, const BatchPlan& plan, std::vector<CachedBlock>& hits) {
  hits.resize(plan.blocks.size());  // every one set below
  find_cached_blocks(collection, plan, 0, plan.blocks.size(), hits.data());
}

std::vector<CachedBlock> find_cached_blocks(const Collection& collection, const BatchPlan& plan) {
  std::vector<CachedBlock> hits;
  find_cached_blocks(collection, plan, hits);
  return hits;
}

}  // namespace bwl::engine
