#include "engine/block_preload.hpp"

#include <algorithm>
#include <atomic>
#include <string>

#include "common/errors.hpp"
#include "engine/block_tasks.hpp"
#include "format/block_reader.hpp"

namespace bwl::engine {
namespace {

// The distinct (file << 32 | block) keys under the regions, sorted (file, then disk order).
std::vector<uint64_t> blocks_under(const Collection& c, const std::vector<uint32_t>& chroms,
                                   const std::vector<int64_t>& starts, const std::vector<int64_t>& ends) {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> found;
  for (size_t r = 0; r < chroms.size(); ++r) {
    for (size_t f = 0; f < c.n_files(); ++f) {
      const int32_t local = c.local_chrom(f, chroms[r]);
      if (local == kAbsent) continue;
      const uint32_t size = c.file(f).chroms()[static_cast<size_t>(local)].size;
      const int64_t lo = std::max<int64_t>(starts[r], 0);
      const int64_t hi = std::min<int64_t>(ends[r], size);
      if (lo >= hi) continue;
      found.clear();
      c.file(f).block_index().find_overlapping(static_cast<size_t>(local), static_cast<uint32_t>(lo),
                                               static_cast<uint32_t>(hi), found);
      for (uint32_t b : found) keys.push_back((uint64_t{f} << 32) | b);
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

PreloadResult preload_blocks(const Collection& collection, const std::vector<uint32_t>& chroms,
                             const std::vector<int64_t>& starts, const std::vector<int64_t>& ends, ThreadPool& pool) {
  if (chroms.size() != starts.size() || chroms.size() != ends.size()) {
    throw InvalidArgument("regions: chromosomes, starts and ends differ in length");
  }
  for (uint32_t c : chroms) {
    if (c >= collection.chrom_names().size())
      throw InvalidArgument("chromosome id " + std::to_string(c) + " is out of range");
  }
  std::vector<uint64_t> keys = blocks_under(collection, chroms, starts, ends);
  PreloadResult result;
  result.blocks = keys.size();
  BlockCache& cache = collection.cache();
  if (!cache.enabled()) {
    result.full = !keys.empty();
    return result;
  }
  // Blocks already held are not decoded again.
  keys.erase(std::remove_if(
                 keys.begin(), keys.end(),
                 [&](uint64_t k) { return cache.contains(static_cast<uint32_t>(k >> 32), static_cast<uint32_t>(k)); }),
             keys.end());
  const uint64_t already = result.blocks - keys.size();
  if (keys.empty()) {
    result.cached = already;
    return result;
  }

  const std::vector<size_t> task_start = block_task_starts(keys.size(), [&](size_t i) { return keys[i] >> 32; });

  std::atomic<bool> full{false};
  std::atomic<uint64_t> cached{0};
  std::vector<std::vector<uint32_t>> numbers(pool.size());
  pool.parallel_for(task_start.size() - 1, [&](size_t t, size_t worker) {
    if (full.load(std::memory_order_relaxed)) return;
    const size_t first = task_start[t], last = task_start[t + 1];
    const auto f = static_cast<uint32_t>(keys[first] >> 32);
    const format::BigWigFile& file = collection.file(f);
    std::vector<uint32_t>& blocks = numbers[worker];
    blocks.clear();
    for (size_t i = first; i < last; ++i) blocks.push_back(static_cast<uint32_t>(keys[i] & 0xFFFFFFFFu));
    const io::FetchHold fetched = file.read_ahead_blocks(blocks);
    size_t i = 0;
    format::decode_blocks(file.file(), file.header(), file.block_index(), blocks, format::thread_block_scratch(),
                          [&](const stages::Run* runs, uint32_t n) {
                            const uint32_t block = blocks[i++];
                            if (full.load(std::memory_order_relaxed)) return;
                            if (cache.insert_if_room(f, block, CachedRuns::make(runs, n))) {
                              cached.fetch_add(1, std::memory_order_relaxed);
                            } else {
                              full.store(true, std::memory_order_relaxed);
                            }
                          });
  });
  result.cached = already + cached.load();
  result.full = full.load();
  return result;
}

}  // namespace bwl::engine
