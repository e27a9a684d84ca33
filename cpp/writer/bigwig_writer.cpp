#include "writer/bigwig_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/errors.hpp"
#include "format/bbi_header.hpp"
#include "format/chrom_tree.hpp"
#include "stages/host_inflate.hpp"
#include "stages/section_decode.hpp"
#include "writer/zoom_levels.hpp"

namespace bwl::writer {
namespace {

// The layout is the reader's (format/bbi_header.hpp): one definition.
constexpr uint32_t kBigWigMagic = format::kBigWigMagic;
constexpr uint16_t kVersion = 4;
constexpr uint64_t kHeaderBytes = format::kBbiHeaderBytes;
constexpr uint64_t kZoomHeaderBytes = format::kZoomHeaderBytes;
constexpr uint64_t kTotalSummaryOffset = kHeaderBytes + kMaxZoomLevels * kZoomHeaderBytes;  // 304
constexpr uint64_t kTotalSummaryBytes = format::kTotalSummaryBytes;
constexpr uint64_t kChromTreeOffset = kTotalSummaryOffset + kTotalSummaryBytes;  // 344
constexpr uint8_t kBedGraphType = static_cast<uint8_t>(stages::SectionType::BedGraph);
constexpr uint8_t kFixedStepType = static_cast<uint8_t>(stages::SectionType::FixedStep);

uint32_t float_bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}

std::string interval_text(int64_t start, int64_t end) {
  return "[" + std::to_string(start) + ", " + std::to_string(end) + ")";
}

}  // namespace

BigWigWriter::BigWigWriter(const std::string& path, const std::vector<std::pair<std::string, int64_t>>& chroms,
                           WriterOptions options)
    : path_(path), options_(options), deflater_(options.compression_level) {
  if (chroms.empty()) throw InvalidArgument(path + ": chrom_sizes is empty; a bigWig needs at least one chromosome");
  chroms_.reserve(chroms.size());
  for (const auto& [name, size] : chroms) {
    if (const std::string problem = format::chrom_name_problem(name); !problem.empty())
      throw InvalidArgument(path + ": " + problem);
    if (size <= 0 || size > int64_t{UINT32_MAX})
      throw InvalidArgument(path + ": chromosome " + name + " has size " + std::to_string(size) +
                            "; sizes must be in [1, 2^32)");
    if (!chrom_index_.emplace(name, chroms_.size()).second)
      throw InvalidArgument(path + ": chromosome " + name + " is listed twice in chrom_sizes");
    chroms_.push_back(Chrom{name, static_cast<uint32_t>(size)});
  }
  file_ = std::make_unique<AtomicFile>(path);
  const Bytes zeros(kChromTreeOffset, 0);
  file_->append(zeros);
  chrom_tree_offset_ = file_->size();
  file_->append(chrom_bplus_tree(chrom_entries(), chrom_tree_offset_));  // ids patched at close
  data_offset_ = file_->size();
  file_->append(Bytes(8, 0));  // block count, patched at close
  starts_.reserve(kItemsPerBlock);
  ends_.reserve(kItemsPerBlock);
  values_.reserve(kItemsPerBlock);
}

BigWigWriter::~BigWigWriter() { abort(); }

void BigWigWriter::abort() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_) file_->abort();
  finished_ = true;
}

void BigWigWriter::check_open() const {
  if (finished_) throw InvalidArgument(path_ + ": the writer is closed");
}

void BigWigWriter::refuse(const std::string& what) const { throw InvalidArgument(path_ + ": " + what); }

std::vector<ChromEntry> BigWigWriter::chrom_entries() const {
  std::vector<ChromEntry> entries;
  entries.reserve(chroms_.size());
  for (const Chrom& c : chroms_) entries.push_back({c.name, c.id == UINT32_MAX ? 0 : c.id, c.size});
  std::sort(entries.begin(), entries.end(), [](const ChromEntry& a, const ChromEntry& b) { return a.name < b.name; });
  return entries;
}

// Finds `name` and checks that data for it may come now. Nothing changes until every item of
// a call has been checked, so a refused call adds nothing.
size_t BigWigWriter::enter_chromosome(const std::string& name) {
  const auto it = chrom_index_.find(name);
  if (it == chrom_index_.end()) throw UnknownChromosome(path_ + ": chromosome " + name + " is not in chrom_sizes");
  const size_t idx = it->second;
  if (chroms_[idx].done)
    refuse("data for chromosome " + name + " comes after data for " + chroms_[current_].name + ", but " + name +
           " already had data; add each chromosome's data in one stretch, sorted by start");
  return idx;
}

// Runs the part of a call that changes state and writes, after its input was checked. A
// failure there (a full disk, an unwritable directory) leaves the state half changed, so the
// writer gives up: the temporary file is removed and every later call is refused.
template <typename F>
void BigWigWriter::writing(F&& f) {
  try {
    f();
  } catch (...) {
    if (file_) file_->abort();
    finished_ = true;
    throw;
  }
}

// Makes `chrom` the one receiving data: the previous one is finished for good.
void BigWigWriter::switch_to(size_t chrom) {
  if (chrom == current_) return;
  flush_section();
  if (current_ != SIZE_MAX) chroms_[current_].done = true;
  current_ = chrom;
  chroms_[chrom].id = next_id_++;
  last_end_ = 0;
}

void BigWigWriter::add_intervals(const std::string& chrom, const int64_t* starts, const int64_t* ends,
                                 const float* values, size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  check_open();
  const size_t idx = enter_chromosome(chrom);
  const Chrom& c = chroms_[idx];
  int64_t prev_end = idx == current_ ? static_cast<int64_t>(last_end_) : 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t s = starts[i], e = ends[i];
    if (s < 0) refuse(chrom + ": interval " + std::to_string(i) + " " + interval_text(s, e) + " starts before 0");
    if (e <= s)
      refuse(chrom + ": interval " + std::to_string(i) + " " + interval_text(s, e) +
             " is empty or ends before it starts");
    if (e > c.size)
      refuse(chrom + ": interval " + std::to_string(i) + " " + interval_text(s, e) +
             " ends past the chromosome's end (" + std::to_string(c.size) + ")");
    if (s < prev_end)
      refuse(chrom + ": interval " + std::to_string(i) + " " + interval_text(s, e) +
             " starts before the previous one ends (" + std::to_string(prev_end) +
             "); intervals must be sorted by start and must not overlap");
    prev_end = e;
  }
  if (n == 0) return;
  writing([&] {
    switch_to(idx);
    for (size_t i = 0; i < n; ++i) {
      if (!options_.keep_nan && std::isnan(values[i])) continue;
      push_bedgraph(static_cast<uint32_t>(starts[i]), static_cast<uint32_t>(ends[i]), values[i], false);
    }
    last_end_ = static_cast<uint64_t>(prev_end);
  });
}

void BigWigWriter::add_values(const std::string& chrom, int64_t start, const float* values, size_t n, uint32_t span,
                              uint32_t step, bool fixed_step) {
  std::lock_guard<std::mutex> lock(mutex_);
  check_open();
  const size_t idx = enter_chromosome(chrom);
  const Chrom& c = chroms_[idx];
  if (span == 0) refuse(chrom + ": span must be at least 1");
  if (step == 0) refuse(chrom + ": step must be at least 1");
  if (step < span)
    refuse(chrom + ": step " + std::to_string(step) + " is smaller than span " + std::to_string(span) +
           ", so the values would overlap");
  if (start < 0) refuse(chrom + ": start " + std::to_string(start) + " is before 0");
  if (n == 0) return;
  const uint64_t end = static_cast<uint64_t>(start) + uint64_t{step} * (n - 1) + span;
  if (end > c.size)
    refuse(chrom + ": " + std::to_string(n) + " values from " + std::to_string(start) + " reach " +
           std::to_string(end) + ", past the chromosome's end (" + std::to_string(c.size) + ")");
  if (idx == current_ && static_cast<uint64_t>(start) < last_end_)
    refuse(chrom + ": values start at " + std::to_string(start) + ", before the end of the previous data (" +
           std::to_string(last_end_) + "); data must be sorted by start and must not overlap");
  writing([&] {
    switch_to(idx);
    const bool keep_nan = options_.keep_nan;
    uint64_t pos = static_cast<uint64_t>(start);
    if (fixed_step) {
      for (size_t i = 0; i < n; ++i, pos += step)
        if (keep_nan || !std::isnan(values[i])) push_fixed(static_cast<uint32_t>(pos), values[i], span, step);
    } else {
      for (size_t i = 0; i < n; ++i, pos += step)
        if (keep_nan || !std::isnan(values[i]))
          push_bedgraph(static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + span), values[i], true);
    }
    last_end_ = end;
  });
}

// Appends one bedGraph item; with `merge`, an item that touches the previous one and has the
// same value (bit for bit, so NaN runs merge too) extends it instead. A full section is
// written only when an item that cannot merge arrives, so runs merge across a full section.
void BigWigWriter::push_bedgraph(uint32_t start, uint32_t end, float value, bool merge) {
  if (mode_ == Mode::BedGraph && !values_.empty()) {
    if (merge && ends_.back() == start && float_bits(values_.back()) == float_bits(value)) {
      ends_.back() = end;
      return;
    }
    if (values_.size() == kItemsPerBlock) flush_section();
  } else if (mode_ != Mode::BedGraph) {
    flush_section();
  }
  mode_ = Mode::BedGraph;
  starts_.push_back(start);
  ends_.push_back(end);
  values_.push_back(value);
}

void BigWigWriter::push_fixed(uint32_t start, float value, uint32_t span, uint32_t step) {
  const bool continues = mode_ == Mode::FixedStep && span == fixed_span_ && step == fixed_step_ &&
                         uint64_t{start} == uint64_t{fixed_start_} + uint64_t{step} * values_.size() &&
                         values_.size() < kItemsPerBlock;
  if (!continues) {
    flush_section();
    mode_ = Mode::FixedStep;
    fixed_start_ = start;
    fixed_span_ = span;
    fixed_step_ = step;
  }
  values_.push_back(value);
}

void BigWigWriter::flush_section() {
  if (values_.empty()) {
    mode_ = Mode::None;
    return;
  }
  const uint32_t id = chroms_[current_].id;
  const auto count = static_cast<uint16_t>(values_.size());
  const bool fixed = mode_ == Mode::FixedStep;
  const uint32_t start = fixed ? fixed_start_ : starts_.front();
  const uint32_t end = fixed ? fixed_start_ + fixed_step_ * (count - 1u) + fixed_span_ : ends_.back();

  raw_.clear();
  put_u32(raw_, id);
  put_u32(raw_, start);
  put_u32(raw_, end);
  put_u32(raw_, fixed ? fixed_step_ : 0);
  put_u32(raw_, fixed ? fixed_span_ : 0);
  put_u8(raw_, fixed ? kFixedStepType : kBedGraphType);
  put_u8(raw_, 0);
  put_u16(raw_, count);
  uint32_t resolution = fixed ? fixed_step_ : UINT32_MAX;
  for (size_t i = 0; i < values_.size(); ++i) {
    const uint32_t bases = fixed ? fixed_span_ : ends_[i] - starts_[i];
    if (!fixed) resolution = std::min(resolution, bases);
    if (!fixed) {
      put_u32(raw_, starts_[i]);
      put_u32(raw_, ends_[i]);
    }
    put_f32(raw_, values_[i]);
    // Total summary and average item length (which picks the zoom reductions).
    ++items_;
    bases_ += bases;
    const double v = values_[i];
    if (std::isnan(v)) continue;
    if (valid_items_ == 0) {
      min_ = max_ = v;
    } else {
      min_ = std::min(min_, v);
      max_ = std::max(max_, v);
    }
    ++valid_items_;
    valid_bases_ += bases;
    sum_ += v * bases;
    sum_squares_ += v * v * bases;
  }
  raw_bytes_ += raw_.size();
  resolution_sum_ += resolution;
  ++sections_;
  has_fixed_step_ |= fixed;
  write_block(start, end);
  starts_.clear();
  ends_.clear();
  values_.clear();
  mode_ = Mode::None;
}

void BigWigWriter::write_block(uint32_t start, uint32_t end) {
  deflater_.compress(raw_.data(), raw_.size(), packed_);
  const uint32_t id = chroms_[current_].id;
  blocks_.push_back(IndexedBlock{id, start, id, end, file_->size(), packed_.size()});
  file_->append(packed_);
  max_block_raw_ = std::max<uint32_t>(max_block_raw_, static_cast<uint32_t>(raw_.size()));
}

// Calls f(run) for every item of the data blocks, in file order, reading them back from disk.
template <typename F>
void BigWigWriter::for_each_item(F&& f) {
  stages::HostInflater inflater;
  std::vector<uint8_t> stored, inflated(max_block_raw_);
  for (const IndexedBlock& b : blocks_) {
    stored.resize(b.size);
    file_->read(b.offset, b.size, stored.data());
    size_t written = 0;
    if (inflater.inflate_zlib(stored.data(), stored.size(), inflated.data(), inflated.size(), &written) !=
        stages::InflateStatus::Ok)
      throw Error(path_ + ": internal error: a block just written does not inflate");
    const auto r = stages::decode_sections(inflated.data(), static_cast<uint32_t>(written), stages::KeepAllRuns{},
                                           [&](const stages::Run& run) {
                                             f(run);
                                             return true;
                                           });
    if (r.status != stages::DecodeStatus::Ok)
      throw Error(path_ + ": internal error: a block just written does not decode");
  }
}

std::vector<IndexedBlock> BigWigWriter::write_zoom_records(const std::vector<Summary>& records) {
  std::vector<IndexedBlock> blocks;
  for (size_t first = 0; first < records.size(); first += kItemsPerBlock) {
    const size_t last = std::min(records.size(), first + kItemsPerBlock);
    raw_.clear();
    for (size_t i = first; i < last; ++i) {
      const Summary& s = records[i];
      const size_t at = raw_.size();
      raw_.resize(at + format::kZoomRecordBytes);
      format::store_zoom_record(format::ZoomRecord{s.chrom_id, s.start, s.end, s.valid_count,
                                                   static_cast<float>(s.min_value), static_cast<float>(s.max_value),
                                                   static_cast<float>(s.sum), static_cast<float>(s.sum_squares)},
                                raw_.data() + at);
    }
    deflater_.compress(raw_.data(), raw_.size(), packed_);
    const Summary& a = records[first];
    const Summary& z = records[last - 1];
    blocks.push_back(IndexedBlock{a.chrom_id, a.start, z.chrom_id, z.end, file_->size(), packed_.size()});
    file_->append(packed_);
  }
  return blocks;
}

void BigWigWriter::write_zoom_levels(uint64_t data_bytes) {
  if (valid_items_ == 0) return;  // nothing to summarise (no items, or only NaN ones): no zoom levels
  uint32_t reduction;
  if (has_fixed_step_) {
    reduction = wig_initial_reduction(resolution_sum_ / sections_, raw_bytes_, [&](uint32_t r) {
      ReductionCandidates one;
      one.scale[0] = r;
      one.count = 1;
      ResolutionCounter counter(one);
      for_each_item([&](const stages::Run& run) { counter.add(run.chrom_id, run.start, run.end); });
      return counter.count(0);
    });
  } else {
    const ReductionCandidates candidates = reduction_candidates(bases_, items_);
    ResolutionCounter counter(candidates);
    for_each_item([&](const stages::Run& r) { counter.add(r.chrom_id, r.start, r.end); });
    reduction = candidates.scale[choose_initial_reduction(candidates, counter, data_bytes)];
  }

  std::vector<uint32_t> sizes_by_id(chroms_.size());
  for (const Chrom& c : chroms_)
    if (c.id != UINT32_MAX) sizes_by_id[c.id] = c.size;

  // Level 0: summaries stream to disk a block at a time, while the next level (x4) collects.
  std::vector<Summary> pending, next;
  std::vector<IndexedBlock> level0_blocks;
  uint64_t level0_count = 0;
  const uint64_t level0_data = file_->size();
  file_->append(Bytes(4, 0));  // record count, patched below
  auto emit = [&](const Summary& s) {
    pending.push_back(s);
    fold_into(next, s, uint64_t{reduction} * kZoomIncrement);
    ++level0_count;
    if (pending.size() == kItemsPerBlock) {
      for (const IndexedBlock& b : write_zoom_records(pending)) level0_blocks.push_back(b);
      pending.clear();
    }
  };
  Level0Summarizer summarizer(reduction, sizes_by_id);
  for_each_item([&](const stages::Run& r) {
    if (!std::isnan(r.value)) summarizer.add(r.chrom_id, r.start, r.end, r.value, emit);  // as the total summary
  });
  summarizer.finish(emit);
  for (const IndexedBlock& b : write_zoom_records(pending)) level0_blocks.push_back(b);
  Bytes count;
  put_u32(count, static_cast<uint32_t>(level0_count));
  file_->patch(level0_data, count);
  uint64_t index = file_->size();
  file_->append(cir_tree(level0_blocks, index, index, kItemsPerBlock));
  zooms_.push_back({reduction, level0_data, index});

  // Further levels, each from the one before, while they still shrink.
  uint64_t level_count = level0_count;
  uint64_t level_reduction = uint64_t{reduction} * kZoomIncrement;
  while (zooms_.size() < kMaxZoomLevels && next.size() < level_count && level_reduction <= UINT32_MAX) {
    level_count = next.size();
    const uint64_t data = file_->size();
    Bytes n;
    put_u32(n, static_cast<uint32_t>(next.size()));
    file_->append(n);
    const std::vector<IndexedBlock> blocks = write_zoom_records(next);
    index = file_->size();
    file_->append(cir_tree(blocks, index, index, kItemsPerBlock));
    zooms_.push_back({static_cast<uint32_t>(level_reduction), data, index});
    level_reduction *= kZoomIncrement;
    next = reduce_summaries(next, level_reduction);
  }
}

void BigWigWriter::close() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (finished_) return;
  try {
    flush_section();
    Bytes count;
    put_u64(count, blocks_.size());
    file_->patch(data_offset_, count);
    const uint64_t index_offset = file_->size();
    file_->append(cir_tree(blocks_, index_offset, index_offset, 1));
    write_zoom_levels(index_offset - data_offset_);

    // Chromosomes that received no data are numbered after those that did.
    for (Chrom& c : chroms_)
      if (c.id == UINT32_MAX) c.id = next_id_++;
    file_->patch(chrom_tree_offset_, chrom_bplus_tree(chrom_entries(), chrom_tree_offset_));

    Bytes summary;
    put_u64(summary, valid_bases_);
    put_f64(summary, min_);
    put_f64(summary, max_);
    put_f64(summary, sum_);
    put_f64(summary, sum_squares_);
    file_->patch(kTotalSummaryOffset, summary);

    Bytes head;
    put_u32(head, kBigWigMagic);
    put_u16(head, kVersion);
    put_u16(head, static_cast<uint16_t>(zooms_.size()));
    put_u64(head, chrom_tree_offset_);
    put_u64(head, data_offset_);
    put_u64(head, index_offset);
    put_u16(head, 0);  // fieldCount
    put_u16(head, 0);  // definedFieldCount
    put_u64(head, 0);  // autoSqlOffset
    put_u64(head, kTotalSummaryOffset);
    // As UCSC: room for the largest data block or a full block of zoom records.
    put_u32(head, std::max<uint32_t>(max_block_raw_, kItemsPerBlock * kZoomRecordBytes));
    put_u64(head, 0);  // extensionOffset
    for (const ZoomLevel& z : zooms_) {
      put_u32(head, z.reduction);
      put_u32(head, 0);
      put_u64(head, z.data_offset);
      put_u64(head, z.index_offset);
    }
    file_->patch(0, head);
    file_->commit();
    finished_ = true;
  } catch (...) {
    lock.unlock();
    abort();
    throw;
  }
}

}  // namespace bwl::writer
