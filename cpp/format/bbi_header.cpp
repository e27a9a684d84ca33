#include "format/bbi_header.hpp"

#include <cstdio>
#include <string>

#include "common/errors.hpp"
#include "format/byte_cursor.hpp"

namespace bwl::format {
namespace {

uint32_t byte_swapped(uint32_t x) { return (x >> 24) | ((x >> 8) & 0xFF00u) | ((x << 8) & 0xFF0000u) | (x << 24); }

std::string hex(uint32_t x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", x);
  return buf;
}

void check_magic(uint32_t magic, const std::string& path) {
  if (magic == kBigWigMagic) return;
  if (magic == kBigBedMagic) {
    throw format_error(path, "this is a bigBed file, not a bigWig (magic " + hex(magic) + ")", 0);
  }
  if (magic == byte_swapped(kBigWigMagic) || magic == byte_swapped(kBigBedMagic)) {
    throw format_error(path, "big-endian BBI files are not supported", 0);
  }
  throw format_error(path, "not a bigWig file (magic " + hex(magic) + ", expected " + hex(kBigWigMagic) + ")", 0);
}

void check_points_into_file(uint64_t offset, const char* what, const io::ByteSource& file, uint64_t field_offset) {
  if (offset == 0 || offset >= file.size()) {
    throw format_error(file.path(),
                       std::string("corrupt header: ") + what + " offset " + std::to_string(offset) +
                           " lies outside the file (" + std::to_string(file.size()) + " bytes)",
                       field_offset);
  }
}

}  // namespace

BbiHeader read_bbi_header(const io::ByteSource& file) {
  const std::string& path = file.path();
  if (file.size() < 4) throw format_error(path, "not a bigWig file: only " + std::to_string(file.size()) + " bytes");
  std::vector<uint8_t> magic_bytes(4);
  file.read_exact(0, 4, magic_bytes.data(), "magic number");
  check_magic(load_u32le(magic_bytes.data()), path);

  std::vector<uint8_t> bytes(kBbiHeaderBytes);
  file.read_exact(0, kBbiHeaderBytes, bytes.data(), "BBI header");
  ByteCursor in(bytes, 0, path, "BBI header");
  BbiHeader h;
  in.skip(4);  // magic, checked above
  h.version = in.u16();
  h.zoom_levels = in.u16();
  h.chrom_tree_offset = in.u64();
  h.full_data_offset = in.u64();
  h.full_index_offset = in.u64();
  h.field_count = in.u16();
  h.defined_field_count = in.u16();
  h.auto_sql_offset = in.u64();
  h.total_summary_offset = in.u64();
  h.uncompress_buf_size = in.u32();
  h.extension_offset = in.u64();

  if (h.version < 1 || h.version > 4) {
    throw format_error(path, "unsupported BBI version " + std::to_string(h.version) + " (1 to 4 are known)", 4);
  }
  check_points_into_file(h.chrom_tree_offset, "chromosome tree", file, 8);
  check_points_into_file(h.full_data_offset, "data", file, 16);
  check_points_into_file(h.full_index_offset, "R-tree index", file, 24);
  if (h.uncompress_buf_size > kMaxUncompressBufSize) {
    throw format_error(path,
                       "corrupt header: uncompressBufSize " + std::to_string(h.uncompress_buf_size) + " exceeds " +
                           std::to_string(kMaxUncompressBufSize),
                       52);
  }

  if (h.zoom_levels > 0) {
    const uint64_t zoom_header_bytes = uint64_t{h.zoom_levels} * kZoomHeaderBytes;
    file.check_range(kBbiHeaderBytes, zoom_header_bytes, "zoom headers");  // before allocating
    std::vector<uint8_t> zoom_bytes(zoom_header_bytes);
    file.read_exact(kBbiHeaderBytes, zoom_bytes.size(), zoom_bytes.data(), "zoom headers");
    ByteCursor zin(zoom_bytes, kBbiHeaderBytes, path, "zoom headers");
    h.zooms.resize(h.zoom_levels);
    for (ZoomHeader& z : h.zooms) {
      z.reduction_level = zin.u32();
      zin.skip(4);  // reserved
      z.data_offset = zin.u64();
      z.index_offset = zin.u64();
    }
  }

  // Version 1 has no total summary. Elsewhere it is informational only, so an unreadable one
  // is reported as absent rather than failing a file whose data is intact.
  if (h.version >= 2 && h.total_summary_offset != 0 && h.total_summary_offset < file.size() &&
      file.size() - h.total_summary_offset >= kTotalSummaryBytes) {
    std::vector<uint8_t> sbytes(kTotalSummaryBytes);
    file.read_exact(h.total_summary_offset, kTotalSummaryBytes, sbytes.data(), "total summary");
    ByteCursor sin(sbytes, h.total_summary_offset, path, "total summary");
    TotalSummary s;
    s.bases_covered = sin.u64();
    s.min_value = sin.f64();
    s.max_value = sin.f64();
    s.sum = sin.f64();
    s.sum_squares = sin.f64();
    h.total_summary = s;
  }
  return h;
}

std::vector<io::ByteRange> open_ranges(const BbiHeader& header, uint64_t file_size) {
  // Every structure the header points at starts a section; a structure ends where the next one
  // starts (writers lay them out differently: UCSC puts the tree before the data, pybigtools after).
  std::vector<uint64_t> starts{header.full_data_offset,
                               header.full_index_offset,
                               header.chrom_tree_offset,
                               header.auto_sql_offset,
                               header.total_summary_offset,
                               header.extension_offset,
                               file_size};
  for (const ZoomHeader& z : header.zooms) {
    starts.push_back(z.data_offset);
    starts.push_back(z.index_offset);
  }
  auto end_of = [&](uint64_t from) {
    uint64_t end = file_size;
    for (uint64_t s : starts) {
      if (s > from) end = std::min(end, s);
    }
    return end;
  };
  std::vector<io::ByteRange> ranges;
  for (uint64_t from : {header.chrom_tree_offset, header.full_index_offset}) {
    const uint64_t to = end_of(from);
    if (from < to) ranges.push_back(io::ByteRange{from, to - from});
  }
  return ranges;
}

}  // namespace bwl::format
