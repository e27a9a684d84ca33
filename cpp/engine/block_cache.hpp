#pragma once
// A bounded cache of decoded blocks: the runs of one data block of one file, keyed by
// (file, block number), shared by every batch, loader worker and epoch that reads the same
// collection. A block found here is neither read, inflated nor decoded again; the fill reads
// its runs directly.
//
// What an entry holds: every run of the block (decoded with stages::KeepAllRuns), in block
// order, never the subset one batch kept, so any later window can be filled from it. The fill
// functions skip runs outside their window, so filling from all runs gives the same bytes as
// filling from the kept ones (run order, and with it "later runs win", is unchanged).
//
// Bound: the bytes of the runs plus kEntryOverheadBytes per entry (the map node, the LRU link,
// the shared_ptr control block), summed over entries, never exceed max_bytes. Eviction follows
// least-recently-used order approximately, with lazy promotion (CLOCK's "second chance"): a hit
// only stamps the entry (a write to the map node the lookup has just read) instead of moving it
// to the front of the list (two more cache misses on its neighbours, on every hit of every
// batch). The victim is always an entry not used since it was last placed at the front; a used
// entry that eviction reaches at the back is placed at the front again instead. Entries never
// used leave in insertion order; among used ones the order is that of their promotion, not of
// their last use.
//
// Threads: the cache is split into shards (shards_for(max_bytes) of them in a collection) by a hash of the key; each
// shard has its own mutex, its own LRU list and its own share (max_bytes / n_shards) of the bound, so threads touching
// different shards never wait on each other and a lookup holds one shard's lock for a map probe
// and a stamp. (An insert that evicts may move many stamped entries at once under the lock: each
// hit is promoted at most once, so the cost per hit stays constant.) Entries are held by shared_ptr<const CachedRuns>:
// a batch that found or inserted a block keeps its pointer until its fill is done, so an eviction by another thread
// only drops the cache's reference and never frees runs a fill is reading. Entries are never
// modified after insertion (a "refresh" would be a new entry).
//
// A block that fails to inflate or decode is never inserted (the error is raised before the
// runs exist), so a corrupt block raises every time it is read.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stages/run.hpp"

namespace bwl::engine {

// Where a block's runs begin and end: its first run's chromosome and start, its last run's
// chromosome and end. Kept beside the runs so that the search's first guess (stretch_hint) reads
// no run: each run read is a cache miss, the runs being far larger than any CPU cache.
struct RunsExtent {
  uint32_t first_chrom = 0;
  uint32_t first_start = 0;
  uint32_t last_chrom = 0;
  uint32_t last_end = 0;

  // The extent of `n` decoded runs (all zero for none).
  static RunsExtent of(const stages::Run* runs, uint32_t n) {
    return n == 0 ? RunsExtent{} : RunsExtent{runs[0].chrom_id, runs[0].start, runs[n - 1].chrom_id, runs[n - 1].end};
  }
};

// An allocator whose resize() leaves new runs uninitialised: an entry's runs are decoded into
// it, every one written before it is read (CachedRuns::with_room).
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <typename U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

struct CachedRuns {
  std::vector<stages::Run, UninitialisedAllocator<stages::Run>> runs;
  // The runs may be searched (window_stretch) for the stretch a window can use, instead of the
  // fill scanning the whole block: they are in the order window_stretch needs. True of the runs
  // of a successful decode (finish: the decode refused items out of order); checked for runs
  // from anywhere else (make: each non-empty, in (chromosome, start) order, none overlapping the
  // next); a block that fails the check is still cached, and filled from all its runs.
  bool ordered = false;
  RunsExtent extent;  // of `runs` (all zero when there are none)

  // A new entry holding a copy of runs[0, n), with `ordered` checked and `extent` found.
  static std::shared_ptr<CachedRuns> make(const stages::Run* runs, uint32_t n);
  // A new entry with room for n runs, uninitialised: a decode writes them in place, then
  // finish(entry, written), once the decode has succeeded, keeps the first `written` (ordered)
  // and finds `extent`.
  static std::shared_ptr<CachedRuns> with_room(uint32_t n);
  static void finish(CachedRuns& entry, uint32_t written);

  // Where the search for the stretch of [lo, ...) on `chrom` in n ordered runs of `extent`
  // starts: the run that `lo` would fall in were the runs of equal length (n / 2 when `chrom` is
  // not the block's only one). Any guess gives window_stretch the same answer; a good one makes
  // it touch a few neighbouring cache lines, which a caller may prefetch ahead of the search.
  static uint32_t stretch_hint(uint32_t n, const RunsExtent& extent, uint32_t chrom, uint32_t lo);

  // Of runs [first, first + n) with `extent`: the stretch that can overlap bases [lo, hi) of
  // chromosome `chrom`, as (first run, count). Every run outside it ends before lo, starts at or
  // after hi, or is on another chromosome: filling from the stretch equals filling from all.
  // Needs only that chromosomes ascend and, within one, starts and ends never decrease: true of
  // `ordered` runs, and of any runs a successful decode kept (empty ones included), which the
  // CPU fill's arenas hold.
  static std::pair<const stages::Run*, uint32_t> window_stretch(const stages::Run* first, uint32_t n,
                                                                const RunsExtent& extent, uint32_t chrom, uint32_t lo,
                                                                uint32_t hi);
};
using CachedBlock = std::shared_ptr<const CachedRuns>;

class Collection;  // engine/collection.hpp, which owns the cache
struct BatchPlan;  // engine/batch_plan.hpp

// Per planned block, the collection's cache entry for it or null (all null when the cache is
// off), looked up in one BlockCache::find_many. The second form fills `hits` (a processor's
// reused vector); the third, hits[first, last) of planned blocks [first, last) only, so that
// disjoint ranges may be looked up on several threads at once. Both backends find their hits
// here.
std::vector<CachedBlock> find_cached_blocks(const Collection& collection, const BatchPlan& plan);
void find_cached_blocks(const Collection& collection, const BatchPlan& plan, std::vector<CachedBlock>& hits);
void find_cached_blocks(const Collection& collection, const BatchPlan& plan, size_t first, size_t last,
                        CachedBlock* hits);

// The counters of cache_info(), the shape of functools.lru_cache's.
struct CacheInfo {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t blocks = 0;     // entries held now
  uint64_t bytes = 0;      // bytes held now (as counted against the bound)
  uint64_t max_bytes = 0;  // the bound
};

class BlockCache {
 public:
  // Per entry, on top of its runs: what the map node, list node and control block cost.
  static constexpr uint64_t kEntryOverheadBytes = 128;
  static constexpr size_t kMaxShards = 16;
  // Each shard's share is at least this much (when the bound allows one shard): a small cache is
  // one shard, whose LRU order and bound are then exact for the whole cache; a large cache has
  // kMaxShards, whose shares are large enough that hashing evens them out.
  static constexpr uint64_t kMinShardBytes = 16u << 20;
  static size_t shards_for(uint64_t max_bytes) {
    const uint64_t n = max_bytes / kMinShardBytes;
    return n < 1 ? 1 : (n > kMaxShards ? kMaxShards : static_cast<size_t>(n));
  }

  // max_bytes == 0: the cache is off (lookups miss without counting, inserts are dropped).
  // n_shards >= 1; each shard may hold max_bytes / n_shards.
  explicit BlockCache(uint64_t max_bytes = 0, size_t n_shards = 1);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The bytes an entry of n_runs runs counts against the bound.
  static uint64_t entry_bytes(size_t n_runs) { return n_runs * sizeof(stages::Run) + kEntryOverheadBytes; }

  bool enabled() const { return max_bytes_.load(std::memory_order_relaxed) > 0; }
  uint64_t max_bytes() const { return max_bytes_.load(std::memory_order_relaxed); }

  // The entry for (file, block), made most recently used, or null. Counts a hit or a miss.
  CachedBlock find(uint32_t file, uint32_t block);
  // find() for n keys at once (find is this with one key): out[i] is the entry of keys[i] or
  // null, as n finds would leave them (counters and recency alike; the order in which keys
  // of one batch are stamped is not kept). Each shard is locked once, and its keys are
  // looked up in passes that ask for every key's bucket, node and entry before reading any:
  // a large cache's nodes lie far apart in memory, and one find after another waits for
  // each of their misses in turn.
  struct BlockKey {
    uint32_t file;
    uint32_t block;
  };
  void find_many(const BlockKey* keys, size_t n, CachedBlock* out);

  // Whether (file, block) is held, without counting or reordering anything.
  bool contains(uint32_t file, uint32_t block) const;

  // Stores `runs` for (file, block) as most recently used, evicting least recently used entries
  // of its shard until the shard is within its share. An entry larger than the share is not
  // stored. A key already present keeps its entry (both hold the same block's runs).
  void insert(uint32_t file, uint32_t block, CachedBlock runs);

  // As insert, but never evicts: returns false, storing nothing, when the entry does not fit in
  // its shard's free share. preload() fills the cache with this and stops at the first false.
  // Returns true when the key is (now or already) present.
  bool insert_if_room(uint32_t file, uint32_t block, CachedBlock runs);

  // A new bound (0 turns the cache off); shards evict down to their new share at once.
  void set_max_bytes(uint64_t max_bytes);
  // Drops every entry; the counters stay.
  void clear();

  CacheInfo info() const;

 private:
  using Key = uint64_t;
  struct Shard {
    mutable std::mutex mutex;
    struct Entry {
      Key key;
      CachedBlock runs;
      uint64_t placed;    // the shard's clock when the entry was put at the front of `lru`
      uint64_t last_use;  // the shard's clock at its last insert or hit
    };
    std::list<Entry> lru;  // front: most recently placed
    std::unordered_map<Key, std::list<Entry>::iterator> map;
    uint64_t clock = 0;  // counts inserts and hits
    uint64_t bytes = 0;
    uint64_t max_bytes = 0;
    uint64_t hits = 0, misses = 0, evictions = 0;
  };
  static Key key(uint32_t file, uint32_t block) { return (uint64_t{file} << 32) | block; }
  size_t shard_index(Key k) const;
  Shard& shard_of(Key k) const { return shards_[shard_index(k)]; }
  // Evicts from the back until the shard holds at most `limit` bytes. Caller holds the lock.
  static void evict_to(Shard& s, uint64_t limit);
  bool insert_locked(Shard& s, Key k, CachedBlock runs, bool may_evict);

  std::atomic<uint64_t> max_bytes_;
  mutable std::vector<Shard> shards_;
};

}  // namespace bwl::engine
