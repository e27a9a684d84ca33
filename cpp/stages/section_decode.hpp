#pragma once
// Decoding of inflated data blocks into runs: a pure function of bytes, compiled for host and
// device alike (BWL_HD).
//
// A block holds one or more data sections back to back. Each section is a 24-byte header
//
//   bytes  0- 3  chromId    u32
//   bytes  4- 7  chromStart u32
//   bytes  8-11  chromEnd   u32
//   bytes 12-15  itemStep   u32   (fixedStep)
//   bytes 16-19  itemSpan   u32   (variableStep, fixedStep)
//   byte  20     type       u8    1 bedGraph, 2 variableStep, 3 fixedStep
//   byte  21     reserved
//   bytes 22-23  itemCount  u16
//
// followed by itemCount items:
//   bedGraph      12 bytes: start u32, end u32, value f32
//   variableStep   8 bytes: start u32, value f32          end = start + itemSpan
//   fixedStep      4 bytes: value f32                     start = chromStart + i * itemStep,
//                                                         end = start + itemSpan
// All little-endian. Nothing else in the block is trusted: item counts are checked against the
// bytes present, and the file's data-count field is never read.
//
// Overlapping items: writers store items in (chromosome id, base) order, each starting at or
// after the previous one's end; no valid writer makes items that overlap (fixedStep with a span
// longer than its step included) or returns to an earlier chromosome within a block. Such a
// block is corrupt and decoding it fails with OverlappingItems, so that every path (single
// bases, window averages, CPU and GPU, the survey behind `validate`) refuses it alike rather
// than answering differently: pyBigWig would let the later item win per base, and a window
// average over overlapping items has no stored meaning.
// Checked within a block here. Items of different blocks that overlap are refused by the fill,
// which walks the runs of one window's blocks in file order (stages::RunOrder in
// stages/window_fill.hpp: one comparison per run kept), on every path, with the offsets of both
// blocks; the survey behind `validate` (format/block_survey.cpp) walks every block in order and
// finds them too. R-tree extents cannot be used instead: libBigWig writes extents that overlap
// for items that do not. A read sees such an overlap only when its range reaches both items.
#include <cstddef>
#include <cstdint>

#include "common/hd.hpp"
#include "common/little_endian.hpp"
#include "stages/run.hpp"

namespace bwl::stages {

constexpr uint32_t kSectionHeaderBytes = 24;
constexpr uint32_t kBedGraphItemBytes = 12;
constexpr uint32_t kVariableStepItemBytes = 8;
constexpr uint32_t kFixedStepItemBytes = 4;

enum class SectionType : uint8_t { BedGraph = 1, VariableStep = 2, FixedStep = 3 };

// One section's header, as the table above lays it out. The one reader of it: the decoder
// below and the survey (format/block_survey) both use read_section_header.
struct SectionHeader {
  uint32_t chrom_id;
  uint32_t chrom_start;
  uint32_t step;
  uint32_t span;
  uint8_t type;
  uint32_t count;
  uint32_t item_bytes;  // of the section's type; 0 for a type that is not 1, 2 or 3
};

// The header at h[0, kSectionHeaderBytes); the caller checks that those bytes are there.
BWL_HD inline SectionHeader read_section_header(const uint8_t* h) {
  SectionHeader s;
  s.chrom_id = load_u32le(h);
  s.chrom_start = load_u32le(h + 4);
  s.step = load_u32le(h + 12);
  s.span = load_u32le(h + 16);
  s.type = h[20];
  s.count = load_u16le(h + 22);
  switch (static_cast<SectionType>(s.type)) {
    case SectionType::BedGraph: s.item_bytes = kBedGraphItemBytes; break;
    case SectionType::VariableStep: s.item_bytes = kVariableStepItemBytes; break;
    case SectionType::FixedStep: s.item_bytes = kFixedStepItemBytes; break;
    default: s.item_bytes = 0;
  }
  return s;
}

enum class DecodeStatus : uint8_t {
  Ok = 0,
  TruncatedSection,  // a header or its items run past the end of the block
  BadSectionType,    // type byte is not 1, 2 or 3
  BadInterval,       // an item ends before it starts, or past 2^32
  OutputOverflow,    // more runs than `capacity`
  OverlappingItems,  // an item starts before the previous one (same chromosome) ends, or on an earlier chromosome
};

BWL_HD inline const char* describe(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::Ok: return "ok";
    case DecodeStatus::TruncatedSection: return "data section truncated";
    case DecodeStatus::BadSectionType: return "unknown data section type";
    case DecodeStatus::BadInterval: return "data item ends before it starts or past 2^32";
    case DecodeStatus::OutputOverflow: return "more items than the block can hold";
    case DecodeStatus::OverlappingItems:
      return "data items overlap or are out of order (an item starts before the previous one ends)";
  }
  return "unknown decode status";
}

struct DecodeResult {
  DecodeStatus status;
  uint32_t runs;          // runs written to `out`
  uint32_t error_offset;  // byte offset within the inflated block of the failing section
};

// The most runs a block of `bytes` inflated bytes can hold: every item takes at least 4 bytes.
// A buffer of this many runs never overflows, so callers size scratch with it up front.
BWL_HD constexpr uint32_t max_runs_in_block(uint32_t bytes) { return bytes / kFixedStepItemBytes; }

// The runs a block of `bytes` inflated bytes decodes to with every run kept: the sum of its
// sections' item counts, read from their headers alone. Where a header is cut short, names an
// unknown type or counts more items than follow, max_runs_in_block(bytes): the decode then
// reports the fault itself.
BWL_HD inline uint32_t count_items(const uint8_t* data, uint32_t bytes) {
  uint32_t pos = 0, total = 0;
  while (pos < bytes) {
    if (bytes - pos < kSectionHeaderBytes) return max_runs_in_block(bytes);
    const SectionHeader h = read_section_header(data + pos);
    pos += kSectionHeaderBytes;
    if (h.item_bytes == 0 || h.count > (bytes - pos) / h.item_bytes) return max_runs_in_block(bytes);
    total += h.count;
    pos += h.count * h.item_bytes;
  }
  return total;
}

// Keeps every run: decode_block's default filter.
struct KeepAllRuns {
  BWL_HD bool operator()(const Run&) const { return true; }
};

// Keeps what a batch needs from a block: the runs of one chromosome that overlap [lo, hi), or
// every run when `every` (a block whose windows lie on several chromosomes). The runs a
// successful decode keeps are in the block's order, which decode_sections checks: chromosomes
// ascending, each run starting at or after every earlier run's end on its chromosome.
struct KeepNeededRuns {
  bool every;
  uint32_t chrom_id;
  uint32_t lo, hi;
  BWL_HD bool operator()(const Run& r) const { return every || (r.chrom_id == chrom_id && r.end > lo && r.start < hi); }
};

// Decodes every section of one inflated block and calls emit(run) for each run that `keep`
// accepts, in the order stored; emit returns false when it can take no more (OutputOverflow).
// Every item is checked whether kept or not; `runs` in the result counts the runs emitted.
// Never reads past data + size.
template <typename Keep, typename Emit>
BWL_HD inline DecodeResult decode_sections(const uint8_t* data, uint32_t size, Keep keep, Emit&& emit) {
  uint32_t pos = 0;
  uint32_t emitted = 0;
  // The previous item's chromosome and the furthest end on it so far (items in base order).
  bool have_previous = false;
  uint32_t previous_chrom = 0;
  uint32_t previous_end = 0;
  while (pos < size) {
    const uint32_t section_offset = pos;
    if (size - pos < kSectionHeaderBytes) return {DecodeStatus::TruncatedSection, emitted, section_offset};
    const SectionHeader header = read_section_header(data + pos);
    const uint32_t chrom_id = header.chrom_id;
    const uint32_t chrom_start = header.chrom_start;
    const uint32_t step = header.step;
    const uint32_t span = header.span;
    const uint8_t type = header.type;
    const uint32_t count = header.count;
    const uint32_t item_bytes = header.item_bytes;
    pos += kSectionHeaderBytes;
    if (item_bytes == 0) return {DecodeStatus::BadSectionType, emitted, section_offset};
    if (count > (size - pos) / item_bytes) return {DecodeStatus::TruncatedSection, emitted, section_offset};
    const uint8_t* item = data + pos;
    bool overflow = false;
    bool overlap = false;
    // Items come in base order: the chromosome is resolved once per section (a section on an
    // earlier chromosome than the previous item's overlaps at its first item), so that each item
    // costs one comparison and one max against the furthest end so far.
    bool back_to_earlier_chrom = false;
    if (count > 0) {
      if (!have_previous || chrom_id > previous_chrom) {
        have_previous = true;
        previous_chrom = chrom_id;
        previous_end = 0;
      } else if (chrom_id < previous_chrom) {
        back_to_earlier_chrom = true;
      }
    }
    // Every item passes here, kept or not; returns false when it overlaps the previous one.
    auto in_order = [&](uint32_t start, uint32_t end) {
      if (back_to_earlier_chrom || start < previous_end) return false;
      if (end > previous_end) previous_end = end;
      return true;
    };
    auto offer = [&](const Run& run) {
      if (!in_order(run.start, run.end)) overlap = true;
      if (!keep(run) || overflow || overlap) return;
      if (emit(run)) {
        ++emitted;
      } else {
        overflow = true;
      }
    };

    // One loop per section type, so the type is resolved outside the item loop.
    switch (static_cast<SectionType>(type)) {
      case SectionType::BedGraph:
        for (uint32_t i = 0; i < count; ++i, item += kBedGraphItemBytes) {
          const uint32_t start = load_u32le(item);
          const uint32_t end = load_u32le(item + 4);
          if (end < start) return {DecodeStatus::BadInterval, emitted, section_offset};
          offer(Run{chrom_id, start, end, load_f32le(item + 8)});
          if (overlap) return {DecodeStatus::OverlappingItems, emitted, section_offset};
        }
        break;
      case SectionType::VariableStep:
        for (uint32_t i = 0; i < count; ++i, item += kVariableStepItemBytes) {
          const uint32_t start = load_u32le(item);
          const uint64_t end = uint64_t{start} + span;
          if (end > 0xFFFFFFFFull) return {DecodeStatus::BadInterval, emitted, section_offset};
          offer(Run{chrom_id, start, static_cast<uint32_t>(end), load_f32le(item + 4)});
          if (overlap) return {DecodeStatus::OverlappingItems, emitted, section_offset};
        }
        break;
      case SectionType::FixedStep:
        for (uint32_t i = 0; i < count; ++i, item += kFixedStepItemBytes) {
          const uint64_t start = uint64_t{chrom_start} + uint64_t{i} * step;
          const uint64_t end = start + span;
          if (end > 0xFFFFFFFFull) return {DecodeStatus::BadInterval, emitted, section_offset};
          offer(Run{chrom_id, static_cast<uint32_t>(start), static_cast<uint32_t>(end), load_f32le(item)});
          if (overlap) return {DecodeStatus::OverlappingItems, emitted, section_offset};
        }
        break;
    }
    if (overflow) return {DecodeStatus::OutputOverflow, emitted, section_offset};
    pos += count * item_bytes;
  }
  return {DecodeStatus::Ok, emitted, 0};
}

// Writes the runs `keep` accepts to out[0, capacity); never writes past out + capacity.
template <typename Keep = KeepAllRuns>
BWL_HD inline DecodeResult decode_block(const uint8_t* data, uint32_t size, Run* out, uint32_t capacity,
                                        Keep keep = Keep{}) {
  uint32_t written = 0;
  return decode_sections(data, size, keep, [&](const Run& run) {
    if (written == capacity) return false;
    out[written++] = run;
    return true;
  });
}

// Counts the runs `keep` accepts (result.runs), checking the block as decode_block does.
template <typename Keep>
BWL_HD inline DecodeResult count_kept_runs(const uint8_t* data, uint32_t size, Keep keep) {
  return decode_sections(data, size, keep, [](const Run&) { return true; });
}

}  // namespace bwl::stages
