#pragma once
// Filling a collection's block cache up front: decode every block that holds data under a set
// of regions, in every file, and store it in the cache, without evicting anything.
#include <cstdint>
#include <vector>

#include "common/thread_pool.hpp"
#include "engine/collection.hpp"

namespace bwl::engine {

struct PreloadResult {
  uint64_t blocks = 0;  // distinct (file, block) pairs under the regions
  uint64_t cached = 0;  // of those, held by the cache when preload returned
  bool full = false;    // a block did not fit: the cache's bound was reached
};

// Regions: chromosome ids of the collection's global table, and [start, end) (clipped to each
// file's chromosome; a file lacking the chromosome contributes nothing). Blocks are decoded on
// `pool`, a task per run of up to 8 blocks of one file (engine/block_tasks.hpp), and inserted with
// BlockCache::insert_if_room: once one does not fit, the remaining tasks stop, so preload never
// evicts what it (or training) put there. Throws InvalidArgument for mismatched lengths or a
// chromosome id out of range, FormatError for a corrupt block (which is then not cached).
PreloadResult preload_blocks(const Collection& collection, const std::vector<uint32_t>& chroms,
                             const std::vector<int64_t>& starts, const std::vector<int64_t>& ends, ThreadPool& pool);

}  // namespace bwl::engine
