#pragma once
// The BBI common header (64 bytes at offset 0), the zoom headers after it, and the total
// summary. Field names follow the UCSC spec (bbiFile.h).
#include <cstdint>
#include <optional>
#include <vector>

#include "io/byte_source.hpp"

namespace bwl::format {

constexpr uint32_t kBigWigMagic = 0x888FFC26;
constexpr uint32_t kBigBedMagic = 0x8789F2EB;
constexpr size_t kBbiHeaderBytes = 64;
constexpr size_t kZoomHeaderBytes = 24;
constexpr size_t kTotalSummaryBytes = 40;
// A block larger than this is not a bigWig block but a corrupt size field: refusing it keeps a
// corrupt file from making us allocate gigabytes.
constexpr uint32_t kMaxUncompressBufSize = 1u << 28;

struct ZoomHeader {
  uint32_t reduction_level = 0;
  uint64_t data_offset = 0;
  uint64_t index_offset = 0;
};

// Written by the tools at close and often wrong in real files (a max of 2.2e-308, bases
// covered larger than the data): reported, never used.
struct TotalSummary {
  uint64_t bases_covered = 0;
  double min_value = 0;
  double max_value = 0;
  double sum = 0;
  double sum_squares = 0;
};

struct BbiHeader {
  uint16_t version = 0;
  uint16_t zoom_levels = 0;
  uint64_t chrom_tree_offset = 0;
  uint64_t full_data_offset = 0;
  uint64_t full_index_offset = 0;
  uint16_t field_count = 0;
  uint16_t defined_field_count = 0;
  uint64_t auto_sql_offset = 0;
  uint64_t total_summary_offset = 0;
  // Size of the largest inflated block (data and zoom blocks alike); 0 means the data blocks
  // are stored uncompressed.
  uint32_t uncompress_buf_size = 0;
  uint64_t extension_offset = 0;
  std::vector<ZoomHeader> zooms;
  std::optional<TotalSummary> total_summary;  // absent in version 1 and where unreadable

  bool compressed() const { return uncompress_buf_size != 0; }
};

// Reads and checks the header of a bigWig. Throws FormatError for anything that is not a
// little-endian bigWig of version 1 to 4 (a bigBed is named as such), or whose offsets point
// outside the file.
BbiHeader read_bbi_header(const io::ByteSource& file);

// The first read of a remote bigWig's open: the header, zoom headers, total summary and, from
// every writer seen, the chromosome tree (the fields an open reads one by one) in one request.
constexpr uint64_t kOpenFrontBytes = 64u << 10;

// The stretches of the file that an open reads after the header, as ranges a remote source can
// fetch in one round: the chromosome tree and the R-tree index, each up to the next structure the
// header points at (data, index, zoom data or index, summary, or the end of the file), whichever
// order the writer laid them out in. A layout with other things between costs extra round trips,
// never a wrong read: what lies outside the ranges is fetched when read.
std::vector<io::ByteRange> open_ranges(const BbiHeader& header, uint64_t file_size);

}  // namespace bwl::format
