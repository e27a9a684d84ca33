#pragma once
// One open bigWig: its header, chromosome table and block index, read once at open (no data
// block is inflated then), and the one-file queries `values` and `intervals`.
//
// Thread contract: immutable after construction; any number of threads may query one
// BigWigFile at once, each with its own BlockScratch.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/bbi_header.hpp"
#include "format/block_index.hpp"
#include "format/block_reader.hpp"
#include "format/chrom_tree.hpp"
#include "io/byte_source.hpp"
#include "stages/run.hpp"

namespace bwl::format {

class BigWigFile {
 public:
  // Opens the local file at `path`, mapped read-only as well (its blocks are inflated where they
  // lie in the mapping: format/block_reader.hpp). Throws FileNotFound, or FormatError for
  // anything that is not an intact bigWig header/index.
  explicit BigWigFile(const std::string& path);
  // Reads the bigWig of any source (a remote object: io::RemoteObject); throws as above.
  explicit BigWigFile(std::shared_ptr<const io::ByteSource> source);

  const std::string& path() const { return file_->path(); }
  const io::ByteSource& file() const { return *file_; }
  const BbiHeader& header() const { return header_; }
  const std::vector<ChromInfo>& chroms() const { return chroms_; }
  const BlockIndex& block_index() const { return index_; }

  // Position of `name` in chroms(), or -1 when the file lacks it.
  int64_t find_chrom(const std::string& name) const;
  // Position of `name` in chroms(); throws UnknownChromosome naming it and the file.
  size_t chrom_index(const std::string& name) const;
  // Throws InvalidArgument unless 0 <= start <= end <= size of the chromosome.
  void check_range(size_t chrom_index, int64_t start, int64_t end) const;

  // Writes the value of every base of [start, end) to out[0, end - start): stored values as
  // stored (NaN stays NaN), `default_value` where no data covers the base. The range must have
  // passed check_range.
  void values(size_t chrom_index, uint32_t start, uint32_t end, float default_value, float* out,
              BlockScratch& scratch) const;

  // The stored runs that overlap [start, end), unclipped, in file order (as pyBigWig returns them).
  std::vector<stages::Run> intervals(size_t chrom_index, uint32_t start, uint32_t end, BlockScratch& scratch) const;

  // Warns the source of the blocks numbered `block_numbers`: a remote one fetches them all in one
  // round, served to reads while the hold lives; a local one has nothing to do.
  io::FetchHold read_ahead_blocks(const std::vector<uint32_t>& block_numbers) const;

  // Calls visit(const Run*, n) for every block with data overlapping [start, end) of the
  // chromosome; the runs may include other chromosomes and positions (callers filter).
  template <typename Visit>
  void visit_blocks(size_t chrom_index, uint32_t start, uint32_t end, BlockScratch& scratch, Visit&& visit) const {
    scratch.block_numbers.clear();
    index_.find_overlapping(chrom_index, start, end, scratch.block_numbers);
    const io::FetchHold hold = read_ahead_blocks(scratch.block_numbers);
    decode_blocks(*file_, header_, index_, scratch.block_numbers, scratch, visit);
  }

 private:
  std::shared_ptr<const io::ByteSource> file_;
  BbiHeader header_;
  std::vector<ChromInfo> chroms_;
  std::unordered_map<std::string, size_t> chrom_by_name_;
  BlockIndex index_;
};

}  // namespace bwl::format
