#include "engine/block_fetch.hpp"

#include "io/remote_object.hpp"

namespace bwl::engine {

io::FetchHold fetch_remote_blocks(const Collection& collection, const BatchPlan& plan) {
  if (!collection.has_remote_files()) return {};
  const BlockCache& cache = collection.cache();
  std::vector<io::ObjectFetch> round;
  uint32_t current = UINT32_MAX;
  // plan.blocks is sorted by file: one ObjectFetch per remote file with blocks to fetch.
  for (const PlannedBlock& pb : plan.blocks) {
    const format::BigWigFile& file = collection.file(pb.file);
    if (!file.file().is_remote()) continue;
    if (cache.enabled() && cache.contains(pb.file, pb.block)) continue;
    if (pb.file != current) {
      current = pb.file;
      round.emplace_back();
      round.back().object = static_cast<const io::RemoteObject*>(&file.file());
    }
    const format::DataBlock& block = file.block_index().blocks()[pb.block];
    round.back().ranges.push_back(io::ByteRange{block.offset, block.size});
  }
  return io::fetch_round(std::move(round));
}

}  // namespace bwl::engine
