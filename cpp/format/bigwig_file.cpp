#include "format/bigwig_file.hpp"

#include <algorithm>

#include "common/errors.hpp"
#include "io/random_access_file.hpp"
#include "stages/window_fill.hpp"

namespace bwl::format {

BigWigFile::BigWigFile(const std::string& path)
    : BigWigFile(std::make_shared<const io::RandomAccessFile>(path, io::RandomAccessFile::Mapped::Yes)) {}

namespace {

// The header's fields are read one by one: a remote source gets its front first, in one request
// (nothing where the caller already fetched it: bigwig_loader/remote.py opens many at once).
BbiHeader read_header_ahead(const io::ByteSource& file) {
  const io::FetchHold front = file.read_ahead({io::ByteRange{0, std::min<uint64_t>(kOpenFrontBytes, file.size())}});
  return read_bbi_header(file);
}

}  // namespace

BigWigFile::BigWigFile(std::shared_ptr<const io::ByteSource> source)
    : file_(std::move(source)), header_(read_header_ahead(*file_)) {
  // The tree and the index are read node by node: a remote source gets them first, in one round.
  const io::FetchHold hold = file_->read_ahead(open_ranges(header_, file_->size()));
  chroms_ = read_chrom_tree(*file_, header_.chrom_tree_offset);
  index_ = BlockIndex::read(*file_, header_.full_index_offset, chroms_);
  chrom_by_name_.reserve(chroms_.size());
  for (size_t i = 0; i < chroms_.size(); ++i) chrom_by_name_.emplace(chroms_[i].name, i);
}

io::FetchHold BigWigFile::read_ahead_blocks(const std::vector<uint32_t>& block_numbers) const {
  if (!file_->is_remote() || block_numbers.empty()) return {};
  std::vector<io::ByteRange> ranges;
  ranges.reserve(block_numbers.size());
  for (uint32_t b : block_numbers) ranges.push_back(io::ByteRange{index_.blocks()[b].offset, index_.blocks()[b].size});
  return file_->read_ahead(ranges);
}

int64_t BigWigFile::find_chrom(const std::string& name) const {
  auto it = chrom_by_name_.find(name);
  return it == chrom_by_name_.end() ? -1 : static_cast<int64_t>(it->second);
}

size_t BigWigFile::chrom_index(const std::string& name) const {
  const int64_t i = find_chrom(name);
  if (i < 0) throw UnknownChromosome("chromosome '" + name + "' is not in " + path());
  return static_cast<size_t>(i);
}

void BigWigFile::check_range(size_t chrom_index, int64_t start, int64_t end) const {
  const ChromInfo& chrom = chroms_.at(chrom_index);
  const std::string where = " on " + chrom.name + " of " + path();
  if (start < 0) throw InvalidArgument("start " + std::to_string(start) + " is negative" + where);
  if (start > end) {
    throw InvalidArgument("start " + std::to_string(start) + " is after end " + std::to_string(end) + where);
  }
  if (end > int64_t{chrom.size}) {
    throw InvalidArgument("end " + std::to_string(end) + " is past the end of the chromosome (size " +
                          std::to_string(chrom.size) + ")" + where);
  }
}

// Both walk the blocks in file order with a stages::RunOrder, so that items of different blocks
// that overlap are refused (FormatError naming both blocks) rather than read one way here and
// another in window averages.
namespace {

struct BlockOrderCheck {
  const std::string& path;
  const BlockIndex& index;
  const std::vector<uint32_t>& block_numbers;
  stages::RunOrder order;
  size_t visited = 0;
  size_t earlier = 0;  // position in block_numbers of the block that kept the last run

  // After visiting the next block: throws if one of its runs started too early.
  void after_block(uint32_t kept_before) {
    const size_t here = visited++;
    if (order.overlap) {
      throw overlapping_blocks_error(path, index.blocks()[block_numbers[earlier]].offset,
                                     index.blocks()[block_numbers[here]].offset);
    }
    if (order.kept_runs > kept_before) earlier = here;
  }
};

}  // namespace

void BigWigFile::values(size_t chrom_index, uint32_t start, uint32_t end, float default_value, float* out,
                        BlockScratch& scratch) const {
  file_->check_unchanged();  // the index read at open must still describe the file
  std::fill(out, out + (end - start), default_value);
  // The batch fill with a window that is exactly [start, end) and no scaling.
  const stages::ColumnQuery query{start, chroms_[chrom_index].id, start, end};
  BlockOrderCheck check{path(), index_, scratch.block_numbers, {}};
  visit_blocks(chrom_index, start, end, scratch, [&](const stages::Run* runs, uint32_t n) {
    const uint32_t kept_before = check.order.kept_runs;
    stages::fill_single_base_cells(runs, n, query, 1.0f, check.order, out);
    check.after_block(kept_before);
  });
}

std::vector<stages::Run> BigWigFile::intervals(size_t chrom_index, uint32_t start, uint32_t end,
                                               BlockScratch& scratch) const {
  file_->check_unchanged();
  std::vector<stages::Run> found;
  const uint32_t chrom_id = chroms_[chrom_index].id;
  BlockOrderCheck check{path(), index_, scratch.block_numbers, {}};
  visit_blocks(chrom_index, start, end, scratch, [&](const stages::Run* runs, uint32_t n) {
    const uint32_t kept_before = check.order.kept_runs;
    for (uint32_t r = 0; r < n; ++r) {
      if (runs[r].chrom_id == chrom_id && runs[r].end > start && runs[r].start < end) {
        check.order.keep(runs[r]);
        found.push_back(runs[r]);
      }
    }
    check.after_block(kept_before);
  });
  return found;
}

}  // namespace bwl::format
