#include "engine/collection.hpp"

#include <algorithm>
#include <atomic>

#include "common/errors.hpp"
#include "common/thread_pool.hpp"
#include "engine/chrom_order.hpp"
#include "io/descriptor_limit.hpp"
#include "io/descriptor_pool.hpp"

namespace bwl::engine {

namespace {
std::atomic<uint64_t> next_collection_id{1};
}  // namespace

Collection::Collection(const std::vector<std::string>& paths, size_t n_threads, uint64_t cache_bytes,
                       const std::vector<std::shared_ptr<const io::ByteSource>>& sources)
    : cache_(std::make_unique<BlockCache>(cache_bytes, BlockCache::shards_for(cache_bytes))),
      id_(next_collection_id.fetch_add(1, std::memory_order_relaxed)) {
  if (!sources.empty() && sources.size() != paths.size()) {
    throw InvalidArgument("a collection needs one source (or none) per path: got " + std::to_string(sources.size()) +
                          " for " + std::to_string(paths.size()) + " paths");
  }
  auto opened = [&](size_t i) { return sources.empty() ? nullptr : sources[i]; };
  size_t n_local = 0;
  for (size_t i = 0; i < paths.size(); ++i) n_local += opened(i) ? 0 : 1;
  has_remote_files_ = n_local < paths.size();
  // One descriptor per local file, where the limit allows: a default soft limit of 1,024 would
  // fail thousands of tracks ("Too many open files"), so it is raised up to the hard limit, and
  // beyond that the pool keeps the most recently read files open and reopens the others.
  io::make_room_for_descriptors(n_local);
  io::DescriptorPool::instance().fit_to_limit();
  files_.resize(paths.size());
  ThreadPool pool(
      std::min(n_threads == 0 ? ThreadPool::available_cpus() : n_threads, std::max<size_t>(paths.size(), 1)));
  pool.parallel_for(paths.size(), [&](size_t i, size_t) {
    files_[i] =
        opened(i) ? std::make_unique<format::BigWigFile>(opened(i)) : std::make_unique<format::BigWigFile>(paths[i]);
  });

  std::unordered_map<std::string, uint32_t> largest;
  for (const auto& f : files_) {
    for (const auto& c : f->chroms()) {
      auto [it, fresh] = largest.emplace(c.name, c.size);
      if (!fresh) it->second = std::max(it->second, c.size);
    }
  }
  chrom_names_.reserve(largest.size());
  for (const auto& kv : largest) chrom_names_.push_back(kv.first);
  std::sort(chrom_names_.begin(), chrom_names_.end(), chrom_before);
  chrom_sizes_.reserve(chrom_names_.size());
  for (size_t i = 0; i < chrom_names_.size(); ++i) {
    chrom_ids_.emplace(chrom_names_[i], static_cast<int32_t>(i));
    chrom_sizes_.push_back(largest[chrom_names_[i]]);
  }
  local_.assign(files_.size(), std::vector<int32_t>(chrom_names_.size(), kAbsent));
  for (size_t f = 0; f < files_.size(); ++f) {
    const auto& chroms = files_[f]->chroms();
    for (size_t c = 0; c < chroms.size(); ++c)
      local_[f][static_cast<size_t>(chrom_ids_[chroms[c].name])] = static_cast<int32_t>(c);
  }
}

int32_t Collection::find_chrom(const std::string& name) const {
  auto it = chrom_ids_.find(name);
  return it == chrom_ids_.end() ? kAbsent : it->second;
}

}  // namespace bwl::engine
