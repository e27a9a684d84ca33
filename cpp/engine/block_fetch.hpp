#pragma once
// The fetch round of a batch over remote tracks: every planned block of every remote file that
// the cache does not hold, fetched at once (io::fetch_round: ranges of a file merged, all files'
// ranges in flight together) before the backend reads them. Local files are not touched: pread
// needs no warning. The backend then reads as it always does; a block evicted from the cache in
// between is fetched when read (slower, never wrong).
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "io/byte_source.hpp"

namespace bwl::engine {

// The bytes of the plan's uncached remote blocks, served to the files' reads while the hold lives.
io::FetchHold fetch_remote_blocks(const Collection& collection, const BatchPlan& plan);

}  // namespace bwl::engine
