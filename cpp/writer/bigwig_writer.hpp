#pragma once
// Writes one bigWig file, as UCSC's bedGraphToBigWig lays it out (version 4):
//
//   0      header (64 bytes), patched at close
//   64     10 zoom headers (240 bytes; unused ones stay zero), patched at close
//   304    total summary (40 bytes), patched at close
//   344    chromosome B+ tree, size fixed by the names; its ids are patched at close
//   data   block count u64, then the data blocks (zlib), one section of up to 1,024 items each
//   index  R-tree over the data blocks
//   zooms  per level: record count u32, blocks of up to 1,024 zoom records, R-tree
//
// Flow: add_* calls validate their input, append items to the pending section of the current
// chromosome, and compress and append each section as it fills (or as the chromosome, the
// section type or a fixedStep run ends). close() writes the data index, then computes the zoom
// levels by reading the data blocks back from the file (a pass to count the summaries of
// candidate reductions, a few with fixedStep data, then one to summarise; UCSC's tools read
// their input again for the same reason), then patches
// header, summary and chromosome tree, and renames the file into place (AtomicFile).
//
// Chromosome ids follow the order in which chromosomes first receive data (as UCSC's tool
// numbers them), then the chromosomes that received none, in the order given; every given
// chromosome is in the file. Each chromosome's data must come in one stretch, sorted by start
// and not overlapping; anything else is refused with InvalidArgument naming the chromosome,
// and an unknown chromosome with UnknownChromosome. A refused call adds nothing. A failure
// while writing (Error: disk full, ...) removes the temporary file and closes the writer.
//
// Thread contract: calls are serialised by a mutex (the binding releases the GIL, so two Python
// threads may call at once: their data is then added in some order, never interleaved within a
// call). Any exception thrown by close(), and the destructor of a writer never closed, remove
// the temporary file.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "writer/bbi_trees.hpp"
#include "writer/block_deflater.hpp"
#include "writer/byte_writer.hpp"
#include "writer/atomic_file.hpp"
#include "writer/zoom_levels.hpp"

namespace bwl::writer {

constexpr uint32_t kItemsPerBlock = 1024;  // UCSC's itemsPerSlot

struct WriterOptions {
  bool keep_nan = false;      // write NaN values as data (default: NaN means no data)
  int compression_level = 6;  // libdeflate 1..12 (zlib 1..9)
};

class BigWigWriter {
 public:
  // chroms: (name, size) pairs, names unique and non-empty, sizes in [1, 2^32).
  BigWigWriter(const std::string& path, const std::vector<std::pair<std::string, int64_t>>& chroms,
               WriterOptions options);
  ~BigWigWriter();
  BigWigWriter(const BigWigWriter&) = delete;
  BigWigWriter& operator=(const BigWigWriter&) = delete;

  // n intervals [starts[i], ends[i]) with values[i], sorted by start, not overlapping, each of
  // at least one base, within the chromosome. Written as given (one bedGraph item each).
  void add_intervals(const std::string& chrom, const int64_t* starts, const int64_t* ends, const float* values,
                     size_t n);

  // values[i] covers [start + i * step, start + i * step + span). fixed_step: written as
  // fixedStep sections (a NaN, unless kept, ends one); otherwise as bedGraph items, with equal
  // neighbours that touch merged into one run (also across calls).
  void add_values(const std::string& chrom, int64_t start, const float* values, size_t n, uint32_t span, uint32_t step,
                  bool fixed_step);

  void close();
  void abort() noexcept;  // drop everything; the temporary file is removed
  bool closed() const { return finished_.load(); }
  const std::string& path() const { return path_; }

 private:
  struct Chrom {
    std::string name;
    uint32_t size;
    uint32_t id = UINT32_MAX;  // assigned when it first receives data
    bool done = false;         // data came and moved on to another chromosome
  };
  enum class Mode { None, BedGraph, FixedStep };

  size_t enter_chromosome(const std::string& name);  // index into chroms_
  void check_open() const;
  [[noreturn]] void refuse(const std::string& what) const;
  template <typename F>
  void writing(F&& f);
  void switch_to(size_t chrom);
  void push_bedgraph(uint32_t start, uint32_t end, float value, bool merge);
  void push_fixed(uint32_t start, float value, uint32_t span, uint32_t step);
  void flush_section();
  void write_block(uint32_t start, uint32_t end);
  void write_zoom_levels(uint64_t data_bytes);
  std::vector<IndexedBlock> write_zoom_records(const std::vector<Summary>& records);
  template <typename F>
  void for_each_item(F&& f);
  std::vector<ChromEntry> chrom_entries() const;

  std::mutex mutex_;  // held by every public call
  std::string path_;
  WriterOptions options_;
  std::vector<Chrom> chroms_;
  std::unordered_map<std::string, size_t> chrom_index_;
  std::unique_ptr<AtomicFile> file_;
  BlockDeflater deflater_;

  uint64_t chrom_tree_offset_ = 0;
  uint64_t data_offset_ = 0;
  uint32_t next_id_ = 0;
  size_t current_ = SIZE_MAX;  // chromosome receiving data
  uint64_t last_end_ = 0;      // end of the last item of the current chromosome

  // The pending section: bedGraph items, or a fixedStep run.
  Mode mode_ = Mode::None;
  std::vector<uint32_t> starts_, ends_;
  std::vector<float> values_;
  uint32_t fixed_start_ = 0, fixed_span_ = 0, fixed_step_ = 0;

  Bytes raw_, packed_;
  std::vector<IndexedBlock> blocks_;
  uint32_t max_block_raw_ = 0;

  // Total summary (over every base written) and the inputs of the zoom reduction choice:
  // item count (average item length), and for wigToBigWig's rule the uncompressed data size and
  // the sum of section resolutions (a fixedStep section's step, a bedGraph section's shortest item).
  uint64_t bases_ = 0, items_ = 0;
  uint64_t raw_bytes_ = 0, resolution_sum_ = 0, sections_ = 0;
  bool has_fixed_step_ = false;
  // The summary's statistics leave NaN items (keep_nan) out, as the zoom levels do: a NaN is no
  // value, and min/max over it would depend on the order of the data.
  uint64_t valid_bases_ = 0, valid_items_ = 0;
  double min_ = 0, max_ = 0, sum_ = 0, sum_squares_ = 0;

  struct ZoomLevel {
    uint32_t reduction;
    uint64_t data_offset, index_offset;
  };
  std::vector<ZoomLevel> zooms_;
  std::atomic<bool> finished_{false};
};

}  // namespace bwl::writer
