// libFuzzer target: file bytes -> everything a user can do with one bigWig file. Opens it (header,
// chromosome tree, R-tree index), reads values and intervals of every chromosome (the first
// bases of each, capped), loads one batch of windows through the engine's CPU backend (single
// bases and window averages), and surveys it as `bigwig-loader validate` does.
//
// A corrupt file must end in bwl::Error (FormatError and friends); any other exception, a crash,
// a sanitizer report, a hang or an allocation far beyond the input's size is a finding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/little_endian.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "format/bigwig_file.hpp"
#include "format/block_reader.hpp"
#include "format/block_survey.hpp"
#include "fuzz_input_file.hpp"

namespace {

constexpr uint32_t kMaxBasesRead = 1 << 14;  // per chromosome: keeps each input fast
constexpr size_t kMaxChroms = 8;
// Inputs whose header asks for inflate buffers beyond this are skipped: the header check allows
// up to 256 MiB (format/bbi_header.hpp), which is only slow to allocate under AddressSanitizer
// (its shadow memory), not a different path. Unit tests cover the limit itself.
constexpr uint32_t kMaxFuzzedUncompressBufSize = 1u << 20;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void read_file(const std::string& path, bool intact) {
  bwl::format::BigWigFile file(path);
  static bwl::format::BlockScratch scratch;  // reused, as each reader thread does
  const size_t n = std::min(file.chroms().size(), kMaxChroms);
  for (size_t c = 0; c < n; ++c) {
    const uint32_t size = file.chroms()[c].size;
    const uint32_t end = std::min(size, kMaxBasesRead);
    std::vector<float> values(end);
    file.values(c, 0, end, NAN, values.data(), scratch);
    const auto runs = file.intervals(c, 0, end, scratch);
    // Every base an interval covers reads as that interval's value (single-base path and the
    // interval path agree) in a file the survey calls intact: items overlapping across blocks
    // (stages/section_decode.hpp) read as the later one per base.
    if (!intact) continue;
    for (const auto& r : runs) {
      check(r.start <= r.end, "interval ends before it starts");
      for (uint32_t b = std::max<uint32_t>(r.start, 0); b < std::min(r.end, end); ++b) {
        const float v = values[b];
        check(v == r.value || (std::isnan(v) && std::isnan(r.value)), "values() disagrees with intervals()");
      }
    }
  }
}

// One batch of windows at both ends of every chromosome (reaching past them), read as single
// bases and as averages of 7 bases: in a file the survey calls intact each average must be the
// mean of the bases it covers, as the single-base read shows them (NaN default: uncovered bases
// are NaN and left out).
void load_batch(const std::string& path, bool intact) {
  bwl::engine::Collection collection({path}, 1);
  if (collection.chrom_names().empty()) return;
  static bwl::cpu::CpuBatchProcessor processor(1);
  constexpr uint32_t kWindow = 7;
  std::vector<float> out[2];
  for (int pass = 0; pass < 2; ++pass) {
    bwl::engine::BatchRequest r;
    const size_t n = std::min(collection.chrom_names().size(), kMaxChroms);
    for (size_t c = 0; c < n; ++c) {
      r.chroms.push_back(static_cast<uint32_t>(c));
      r.starts.push_back(-3);
      r.chroms.push_back(static_cast<uint32_t>(c));
      r.starts.push_back(int64_t{collection.chrom_sizes()[c]} - 50);
    }
    r.length = kWindow * 20;
    r.window_size = pass == 0 ? 1 : kWindow;
    r.default_value = NAN;
    r.tracks = {0};
    r.scales = {1.0f};
    const bwl::engine::BatchPlan plan = bwl::engine::plan_batch(collection, r);
    out[pass].resize(plan.batch * plan.cells * plan.n_tracks);
    processor.load(collection, r, out[pass].data());
  }
  check(out[0].size() == out[1].size() * kWindow, "batch shapes");
  // A file validate calls damaged may hold items that overlap across blocks, which the batch
  // path cannot see (stages/section_decode.hpp): there the two reads may differ, boundedly.
  if (!intact) return;
  for (size_t cell = 0; cell < out[1].size(); ++cell) {
    double sum = 0;
    uint32_t covered = 0;
    bool finite = true;
    for (uint32_t b = 0; b < kWindow; ++b) {
      const float v = out[0][cell * kWindow + b];
      if (std::isinf(v)) finite = false;
      if (!std::isnan(v)) {
        sum += v;
        ++covered;
      }
    }
    const float average = out[1][cell];
    if (!finite || std::isnan(average)) continue;  // stored NaN/inf: nothing exact to compare
    check(covered > 0, "an average over no covered base");
    const double mean = sum / covered;
    check(std::fabs(mean - average) <= 1e-5 * std::max(std::fabs(mean), double{std::fabs(average)}) + 1e-30,
          "a window average differs from the mean of its single bases");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 56 && bwl::load_u32le(data + 52) > kMaxFuzzedUncompressBufSize) return -1;  // not added to the corpus
  static bwl::fuzz::InputFile input("bwl_fuzz_bigwig");
  input.write(data, size);
  const std::string& path = input.path();
  bool intact = false;
  try {
    intact = bwl::format::survey_file(path).intact();
  } catch (const bwl::Error&) {
  }
  try {
    read_file(path, intact);
  } catch (const bwl::Error&) {
  }
  try {
    load_batch(path, intact);
  } catch (const bwl::Error&) {
  }
  return 0;
}
