#pragma once
// Many bigWig files opened together: the files, the global chromosome table (every name any
// file has, in chrom_order.hpp's order, each with the largest size any file gives it) and, per
// file, the map from global chromosome ids to that file's own chromosome positions.
//
// It also owns the collection's cache of decoded blocks (block_cache.hpp), which every batch,
// loader worker and epoch reading this collection shares.
//
// Thread contract: immutable after construction, except the cache, which is internally
// synchronized; any number of threads may plan and read at once.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/block_cache.hpp"
#include "format/bigwig_file.hpp"

namespace bwl::engine {

constexpr int32_t kAbsent = -1;

class Collection {
 public:
  // Opens every file (headers and indexes only; no block is inflated), `n_threads` at a time
  // (0: the CPUs this process may use), with a cache of decoded blocks bounded by `cache_bytes`
  // (0: no cache). Throws what opening a file throws, naming that file.
  //
  // `sources`, when not empty, has one entry per path: a source already opened for it (a remote
  // object), or null for a local file to open here.
  explicit Collection(const std::vector<std::string>& paths, size_t n_threads = 0, uint64_t cache_bytes = 0,
                      const std::vector<std::shared_ptr<const io::ByteSource>>& sources = {});

  // A number no other Collection of this process has (from 1): what a request checked against
  // this collection records (BatchRequest::checked_against), unlike an address never reused.
  uint64_t id() const { return id_; }

  size_t n_files() const { return files_.size(); }
  const format::BigWigFile& file(size_t i) const { return *files_[i]; }
  // Whether any file is read through a remote source (the batch path then has a fetch round).
  bool has_remote_files() const { return has_remote_files_; }

  const std::vector<std::string>& chrom_names() const { return chrom_names_; }
  const std::vector<uint32_t>& chrom_sizes() const { return chrom_sizes_; }
  // Global id of `name`, or kAbsent.
  int32_t find_chrom(const std::string& name) const;
  // Position of global chromosome `chrom` in file `f`'s own table, or kAbsent.
  int32_t local_chrom(size_t f, uint32_t chrom) const { return local_[f][chrom]; }

  // The shared cache of decoded blocks. Mutable through a const collection: it changes what is
  // fast, never what is read.
  BlockCache& cache() const { return *cache_; }

 private:
  std::vector<std::unique_ptr<format::BigWigFile>> files_;
  std::vector<std::string> chrom_names_;
  std::vector<uint32_t> chrom_sizes_;
  std::unordered_map<std::string, int32_t> chrom_ids_;
  std::vector<std::vector<int32_t>> local_;  // [file][global chrom]
  std::unique_ptr<BlockCache> cache_;
  bool has_remote_files_ = false;
  uint64_t id_;
};

}  // namespace bwl::engine
