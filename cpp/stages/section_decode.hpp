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
#include <type_traits>
#include <utility>

#include "common/hd.hpp"
#include "common/little_endian.hpp"
#include "stages/run.hpp"

#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
#include <emmintrin.h>
#endif

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

// What a filter keeps of one chromosome's ordered runs, for decode_sections' bedGraph path,
// which finds the kept stretch of a section by two binary searches instead of asking the filter
// item by item: every run (all), none, or exactly those with end > lo and start < hi. In ordered
// runs (starts and ends never decrease) those form one contiguous stretch: "end > lo" holds from
// some run on, "start < hi" up to some run.
struct KeptBases {
  bool all;
  bool none;
  uint32_t lo, hi;
};

// Keeps every run: decode_block's default filter.
struct KeepAllRuns {
  BWL_HD bool operator()(const Run&) const { return true; }
  BWL_HD KeptBases on_chrom(uint32_t) const { return {true, false, 0, 0}; }
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
  // The same choice, for runs on `chrom` (operator() is its definition; on_chrom must agree).
  BWL_HD KeptBases on_chrom(uint32_t chrom) const {
    if (every) return {true, false, 0, 0};
    if (chrom != chrom_id) return {false, true, 0, 0};
    return {false, false, lo, hi};
  }
};

// Of n bedGraph items at `items` whose starts and ends never decrease: the stretch [first, last)
// of those `kept` accepts (first == last when none).
BWL_HD inline void kept_bedgraph_stretch(const uint8_t* items, uint32_t n, const KeptBases& kept, uint32_t& first,
                                         uint32_t& last) {
  first = 0;
  last = n;
  if (kept.all) return;
  if (kept.none) {
    last = 0;
    return;
  }
  // first: the first item with end > lo.
  uint32_t a = 0, b = n;
  while (a < b) {
    const uint32_t mid = a + (b - a) / 2;
    if (load_u32le(items + mid * kBedGraphItemBytes + 4) > kept.lo) {
      b = mid;
    } else {
      a = mid + 1;
    }
  }
  first = a;
  // last: the first item from `first` on with start >= hi.
  b = n;
  while (a < b) {
    const uint32_t mid = a + (b - a) / 2;
    if (load_u32le(items + mid * kBedGraphItemBytes) >= kept.hi) {
      b = mid;
    } else {
      a = mid + 1;
    }
  }
  last = a;
}

// Whether n bedGraph items at `items` are in order, the first starting at or after `end_so_far`:
// each ends at or after its own start and starts at or after the previous one's end (so ends
// never decrease). On success `end_so_far` becomes the last item's end (unchanged for n == 0).
// The order every valid writer keeps; a block that breaks it is decoded item by item to report
// the fault. On the host, four items at a time in SSE2 registers: the scalar loop's compare and
// branch-free accumulate cost as much as the whole item-by-item decode.
BWL_HD inline bool bedgraph_items_in_order(const uint8_t* items, uint32_t n, uint32_t& end_so_far) {
  uint32_t i = 0;
  uint32_t fault = 0;
  uint32_t previous = end_so_far;
#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
  if (n >= 4) {
    // Unsigned comparisons as signed ones of values with the top bit flipped.
    const __m128i bias = _mm_set1_epi32(static_cast<int>(0x80000000u));
    __m128i faults = _mm_setzero_si128();
    __m128i previous_end = _mm_cvtsi32_si128(static_cast<int>(previous ^ 0x80000000u));  // lane 0
    for (; i + 4 <= n; i += 4) {
      // Items i..i+3 are 48 bytes: s0 e0 v0 s1 | e1 v1 s2 e2 | v2 s3 e3 v3.
      const uint8_t* p = items + size_t{i} * kBedGraphItemBytes;
      const __m128 a = _mm_loadu_ps(reinterpret_cast<const float*>(p));
      const __m128 b = _mm_loadu_ps(reinterpret_cast<const float*>(p + 16));
      const __m128 c = _mm_loadu_ps(reinterpret_cast<const float*>(p + 32));
      const __m128 s2_s3 = _mm_shuffle_ps(b, c, _MM_SHUFFLE(1, 1, 2, 2));         // s2 s2 s3 s3
      const __m128 starts = _mm_shuffle_ps(a, s2_s3, _MM_SHUFFLE(2, 0, 3, 0));    // s0 s1 s2 s3
      const __m128 e0_e1 = _mm_shuffle_ps(a, b, _MM_SHUFFLE(0, 0, 1, 1));         // e0 e0 e1 e1
      const __m128 e2_e3 = _mm_shuffle_ps(b, c, _MM_SHUFFLE(2, 2, 3, 3));         // e2 e2 e3 e3
      const __m128 ends = _mm_shuffle_ps(e0_e1, e2_e3, _MM_SHUFFLE(2, 0, 2, 0));  // e0 e1 e2 e3
      const __m128i s = _mm_xor_si128(_mm_castps_si128(starts), bias);
      const __m128i e = _mm_xor_si128(_mm_castps_si128(ends), bias);
      const __m128i e_before = _mm_or_si128(_mm_slli_si128(e, 4), previous_end);  // end_so_far e0 e1 e2
      faults = _mm_or_si128(faults, _mm_or_si128(_mm_cmpgt_epi32(s, e), _mm_cmpgt_epi32(e_before, s)));
      previous_end = _mm_srli_si128(e, 12);  // e3, in lane 0
    }
    fault = static_cast<uint32_t>(_mm_movemask_epi8(faults));
    previous = static_cast<uint32_t>(_mm_cvtsi128_si32(previous_end)) ^ 0x80000000u;
  }
#endif
  for (; i < n; ++i) {
    const uint32_t start = load_u32le(items + size_t{i} * kBedGraphItemBytes);
    const uint32_t end = load_u32le(items + size_t{i} * kBedGraphItemBytes + 4);
    fault |= static_cast<uint32_t>(end < start) | static_cast<uint32_t>(start < previous);
    previous = end;
  }
  if (fault != 0) return false;
  end_so_far = previous;
  return true;
}

// The run of the bedGraph item at `item`, on chromosome chrom_id.
BWL_HD inline Run bedgraph_run(const uint8_t* item, uint32_t chrom_id) {
  return Run{chrom_id, load_u32le(item), load_u32le(item + 4), load_f32le(item + 8)};
}

// out[i] = the run of bedGraph item i of n at `items`, on chromosome chrom_id. The 4 bytes
// before `items` must be readable (in a block they are the section header's or the previous
// item's): on the host each run is one 16-byte load from there, its first lane replaced by
// chrom_id, and one store.
BWL_HD inline void copy_bedgraph_runs(const uint8_t* items, uint32_t n, uint32_t chrom_id, Run* out) {
  static_assert(sizeof(Run) == 16, "Run is chrom_id, start, end, value: 16 bytes");
  uint32_t i = 0;
#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
  const __m128i chrom = _mm_cvtsi32_si128(static_cast<int>(chrom_id));
  const __m128i item_lanes = _mm_set_epi32(-1, -1, -1, 0);
  for (; i < n; ++i) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(items + size_t{i} * kBedGraphItemBytes - 4));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_or_si128(_mm_and_si128(x, item_lanes), chrom));
  }
#endif
  for (; i < n; ++i) {
    out[i] = bedgraph_run(items + size_t{i} * kBedGraphItemBytes, chrom_id);
  }
}

// Whether an emitter can hand out room for many runs at once (RunsInto::take).
template <typename E, typename = void>
struct TakesRuns : std::false_type {};
template <typename E>
struct TakesRuns<E, std::void_t<decltype(std::declval<E&>().take(uint32_t{0}))>> : std::true_type {};

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
      case SectionType::BedGraph: {
        // The common case first: every item in order (each starting at or after the previous
        // one's end, ending at or after its own start; then ends never decrease, so the previous
        // item's end is the furthest end so far). Checked in one pass without a branch per item,
        // the kept stretch then found by binary search and emitted without a test per item. A
        // section that fails the check takes the item-by-item loop below, which reports its
        // fault exactly as before.
        if (!back_to_earlier_chrom && bedgraph_items_in_order(item, count, previous_end)) {
          uint32_t first = 0, last = 0;
          kept_bedgraph_stretch(item, count, keep.on_chrom(chrom_id), first, last);
          if constexpr (TakesRuns<std::decay_t<Emit>>::value) {
            // An emitter that hands out room for the whole stretch gets it in one copy.
            if (Run* room = emit.take(last - first)) {
              copy_bedgraph_runs(item + first * kBedGraphItemBytes, last - first, chrom_id, room);
              emitted += last - first;
              break;
            }
          }
          for (uint32_t i = first; i < last; ++i) {
            if (!emit(bedgraph_run(item + i * kBedGraphItemBytes, chrom_id))) {
              overflow = true;
              break;
            }
            ++emitted;
          }
          break;
        }
        for (uint32_t i = 0; i < count; ++i, item += kBedGraphItemBytes) {
          const uint32_t start = load_u32le(item);
          const uint32_t end = load_u32le(item + 4);
          if (end < start) return {DecodeStatus::BadInterval, emitted, section_offset};
          offer(Run{chrom_id, start, end, load_f32le(item + 8)});
          if (overlap) return {DecodeStatus::OverlappingItems, emitted, section_offset};
        }
        break;
      }
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

// decode_block's emitter: runs into out[0, capacity), one by one or, from decode_sections'
// bedGraph path, a stretch at a time (take).
struct RunsInto {
  Run* out;
  uint32_t capacity;
  uint32_t written = 0;
  BWL_HD bool operator()(const Run& run) {
    if (written == capacity) return false;
    out[written++] = run;
    return true;
  }
  // Room for the next n runs, or null (nothing taken) when fewer than n are left.
  BWL_HD Run* take(uint32_t n) {
    if (n > capacity - written) return nullptr;
    Run* room = out + written;
    written += n;
    return room;
  }
};

// Writes the runs `keep` accepts to out[0, capacity); never writes past out + capacity.
template <typename Keep = KeepAllRuns>
BWL_HD inline DecodeResult decode_block(const uint8_t* data, uint32_t size, Run* out, uint32_t capacity,
                                        Keep keep = Keep{}) {
  return decode_sections(data, size, keep, RunsInto{out, capacity});
}

// Counts the runs `keep` accepts (result.runs), checking the block as decode_block does.
template <typename Keep>
BWL_HD inline DecodeResult count_kept_runs(const uint8_t* data, uint32_t size, Keep keep) {
  return decode_sections(data, size, keep, [](const Run&) { return true; });
}

}  // namespace bwl::stages
