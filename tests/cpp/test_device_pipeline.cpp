// The CUDA backend's pipeline (stages/device_pipeline.hpp with engine/device_batch.hpp), run on the
// host item by item exactly as the kernels run it thread by thread, against the CPU backend:
// the outputs must be the same bytes, for real files and for generated files with every section
// type, NaN values, gaps, blocks spanning chromosomes, uncompressed files, all window sizes,
// defaults, dtypes and scales.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bbi_builder.hpp"
#include "real_data.hpp"
#include "common/errors.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "engine/device_batch.hpp"
#include "stages/inflate_chunks.hpp"
#include "tensor/tensor.hpp"

using namespace bwl::test;
using bwl::engine::BatchRequest;
using bwl::engine::Collection;

namespace {

size_t element_bytes(bwl::DType dtype) { return dtype == bwl::DType::BFloat16 ? 2 : 4; }

// The device pipeline on the host: the same layout, the same per-item functions, loops for grids.
// `inflate_cap`: the inflate arena's cap, the blocks taken in chunks as the CUDA backend does
// (cuda/cuda_batch_processor.cu); the default holds any test batch in one chunk. Blocks the
// collection's cache holds are staged as their runs, as the CUDA backend stages them.
std::vector<uint8_t> run_staged_on_host(const Collection& collection, const BatchRequest& request,
                                        uint64_t inflate_cap = uint64_t{1} << 40) {
  const bwl::engine::BatchPlan plan = bwl::engine::plan_batch(collection, request);
  const std::vector<bwl::engine::CachedBlock> hits = bwl::engine::find_cached_blocks(collection, plan);
  const bwl::engine::DeviceBatchLayout layout = bwl::engine::lay_out_device_batch(collection, plan, hits);
  bwl::ThreadPool pool(2);
  std::vector<uint8_t> staged(layout.stored_bytes);
  bwl::engine::read_stored_bytes(collection, plan, layout, staged.data(), pool);
  bwl::engine::copy_cached_runs(hits, layout, staged.data());
  const std::vector<bwl::stages::BlockChunk> chunks =
      bwl::stages::plan_inflate_chunks(layout.blocks.data(), static_cast<uint32_t>(layout.blocks.size()), inflate_cap);
  std::vector<uint8_t> inflated(bwl::stages::largest_chunk_bytes(chunks));
  std::vector<bwl::stages::BlockOutcome> outcomes(plan.blocks.size());
  std::vector<uint64_t> run_offsets(plan.blocks.size());
  const size_t n_columns = plan.batch * plan.n_tracks;
  const size_t n_out = n_columns * plan.cells;
  std::vector<uint8_t> out(n_out * element_bytes(request.dtype));
  std::vector<double> sums(request.window_size > 1 ? n_out : 0, 0.0);
  std::vector<uint32_t> covered(sums.size(), 0);
  std::vector<uint32_t> overlaps(2 * n_columns, 0);

  bwl::stages::DeviceBatchView v{};
  v.blocks = layout.blocks.data();
  v.n_blocks = static_cast<uint32_t>(plan.blocks.size());
  v.staged = staged.data();
  v.inflated = inflated.data();
  v.outcomes = outcomes.data();
  v.run_offsets = run_offsets.data();
  v.columns = plan.columns.data();
  v.column_begin = plan.column_begin.data();
  v.column_blocks = plan.column_blocks.data();
  v.scales = request.scales.data();
  v.n_columns = static_cast<uint32_t>(n_columns);
  v.n_tracks = static_cast<uint32_t>(plan.n_tracks);
  v.cells = plan.cells;
  v.window_size = request.window_size;
  v.default_value = request.default_value;
  v.dtype = request.dtype;
  v.out = out.data();
  v.sums = sums.data();
  v.covered = covered.data();
  v.overlaps = overlaps.data();

  // Per chunk: inflate and count, learn the counts, write the runs (before the next chunk
  // reuses the arena). Runs grow keeping what earlier chunks wrote, as on the device.
  auto tables = std::make_unique<bwl::stages::InflateTables>();
  std::vector<bwl::stages::Run> runs;
  uint64_t total_runs = 0;
  for (const bwl::stages::BlockChunk& chunk : chunks) {
    bwl::stages::DeviceBatchView cv = bwl::stages::chunk_view(v, chunk);
    for (uint32_t i = 0; i < cv.n_blocks; ++i) bwl::stages::inflate_staged_block(cv, i, *tables);
    for (uint32_t i = 0; i < cv.n_blocks; ++i) bwl::stages::count_block_runs(cv, i);
    bwl::engine::check_outcomes(collection, plan, outcomes.data());  // later chunks: still zero, Ok
    total_runs = bwl::stages::scan_chunk_run_offsets(outcomes.data(), chunk, total_runs, run_offsets.data());
    runs.resize(total_runs);
    v.runs = runs.data();
    cv.runs = runs.data();
    for (uint32_t i = 0; i < cv.n_blocks; ++i) bwl::stages::write_block_runs(cv, i);
  }
  if (request.window_size == 1) {
    for (uint64_t e = 0; e < n_out; ++e) bwl::stages::prefill_output(v, e);
  }
  for (uint32_t c = 0; c < v.n_columns; ++c) bwl::stages::fill_column(v, c);
  bwl::engine::check_column_order(collection, plan, overlaps.data());
  return out;
}

std::vector<uint8_t> run_cpu(const Collection& collection, const BatchRequest& request) {
  const bwl::engine::BatchPlan plan = bwl::engine::plan_batch(collection, request);
  std::vector<uint8_t> out(plan.batch * plan.cells * plan.n_tracks * element_bytes(request.dtype));
  bwl::cpu::CpuBatchProcessor processor(2);
  processor.load(collection, request, out.data());
  return out;
}

// Random windows over the collection's chromosomes, some hanging over either end.
BatchRequest random_request(const Collection& c, std::mt19937& rng, size_t batch, int64_t length) {
  BatchRequest r;
  for (size_t i = 0; i < batch; ++i) {
    const uint32_t chrom = static_cast<uint32_t>(rng() % c.chrom_names().size());
    const int64_t size = c.chrom_sizes()[chrom];
    const int64_t start = static_cast<int64_t>(rng() % static_cast<uint64_t>(size + length)) - length / 2;
    r.chroms.push_back(chrom);
    r.starts.push_back(start);
  }
  r.length = length;
  for (uint32_t f = 0; f < c.n_files(); ++f) {
    r.tracks.push_back(f);
    r.scales.push_back(1.0f);
  }
  return r;
}

void expect_same_bytes(const Collection& collection, const BatchRequest& request, const std::string& what,
                       uint64_t inflate_cap = uint64_t{1} << 40) {
  const std::vector<uint8_t> want = run_cpu(collection, request);
  const std::vector<uint8_t> got = run_staged_on_host(collection, request, inflate_cap);
  ASSERT_EQ(got.size(), want.size()) << what;
  const size_t eb = element_bytes(request.dtype);
  for (size_t i = 0; i < want.size(); i += eb) {
    if (std::memcmp(got.data() + i, want.data() + i, eb) != 0) {
      FAIL() << what << ": first difference at element " << i / eb;
    }
  }
}

void sweep(const Collection& collection, const std::string& name, int64_t length, uint32_t seed,
           uint64_t inflate_cap = uint64_t{1} << 40) {
  std::mt19937 rng(seed);
  for (uint32_t window : {1u, 2u, 11u, 128u}) {
    for (float default_value : {0.0f, NAN, 5.6f}) {
      for (bwl::DType dtype : {bwl::DType::Float32, bwl::DType::BFloat16}) {
        BatchRequest r = random_request(collection, rng, 24, length);
        r.window_size = window;
        r.default_value = default_value;
        r.dtype = dtype;
        if (window == 2) {  // a subset of tracks, repeated, and scaled
          r.tracks = {static_cast<uint32_t>(collection.n_files() - 1), 0, 0};
          r.scales = {0.5f, 3.0f, -1.25f};
        }
        expect_same_bytes(collection, r,
                          name + " window " + std::to_string(window) + " default " + std::to_string(default_value) +
                              (dtype == bwl::DType::BFloat16 ? " bf16" : " f32"),
                          inflate_cap);
      }
    }
  }
}

// A generated file: three chromosomes, sections of all three types with gaps and NaN values,
// one to three sections a block, blocks that run from one chromosome into the next.
FileSpec generated_spec(uint32_t seed, bool compressed) {
  std::mt19937 rng(seed);
  FileSpec s;
  s.compressed = compressed;
  s.chroms = {{"chr1", 60000}, {"chr2", 30000}, {"chrX", 20000}};
  std::vector<std::pair<Bytes, std::array<uint32_t, 4>>> sections;  // bytes, (chrom, start, chrom, end)
  auto value = [&]() {
    return rng() % 13 == 0 ? NAN : static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 7.0f;
  };
  for (uint32_t chrom = 0; chrom < s.chroms.size(); ++chrom) {
    uint32_t pos = rng() % 200;
    while (true) {
      const uint32_t n = 1 + rng() % 120;
      const int type = static_cast<int>(rng() % 3);
      const uint32_t first = pos;
      Bytes bytes;
      if (type == 0) {
        std::vector<BedGraphItem> items;
        for (uint32_t i = 0; i < n; ++i) {
          const uint32_t len = 1 + rng() % 40;
          items.push_back({pos, pos + len, value()});
          pos += len + (rng() % 4 == 0 ? rng() % 300 : 0);
        }
        if (items.back().end > s.chroms[chrom].size) break;
        bytes = bedgraph_section(chrom, items);
      } else if (type == 1) {
        const uint32_t span = 1 + rng() % 25;
        std::vector<VarStepItem> items;
        for (uint32_t i = 0; i < n; ++i) {
          items.push_back({pos, value()});
          pos += span + rng() % 30;
        }
        if (items.back().start + span > s.chroms[chrom].size) break;
        bytes = varstep_section(chrom, span, items);
      } else {
        const uint32_t step = 1 + rng() % 50, span = 1 + rng() % step;
        std::vector<float> values;
        for (uint32_t i = 0; i < n; ++i) values.push_back(value());
        pos += (n - 1) * step + span;
        if (pos > s.chroms[chrom].size) break;
        bytes = fixedstep_section(chrom, first, step, span, values);
      }
      sections.push_back({bytes, {chrom, first, chrom, pos}});
      pos += rng() % 500;
    }
  }
  for (size_t i = 0; i < sections.size();) {
    const size_t n = 1 + rng() % 3;
    Block b{};
    b.start_chrom = sections[i].second[0];
    b.start_base = sections[i].second[1];
    for (size_t j = i; j < std::min(sections.size(), i + n); ++j) {
      b.data.insert(b.data.end(), sections[j].first.begin(), sections[j].first.end());
      b.end_chrom = sections[j].second[2];
      b.end_base = sections[j].second[3];
    }
    s.blocks.push_back(b);
    i += n;
  }
  return s;
}

}  // namespace

TEST(DevicePipeline, MatchesTheCpuBackendOnGeneratedFiles) {
  TempFile a(build_bigwig(generated_spec(1, true)));
  TempFile b(build_bigwig(generated_spec(2, true)));
  TempFile raw(build_bigwig(generated_spec(3, false)));
  Collection collection({a.path(), b.path(), raw.path()}, 1);
  sweep(collection, "generated", 1000, 7);
  sweep(collection, "generated long", 7 * 128, 8);
}

// The CPU run of each comparison fills the cache first, so the staged run finds hits: every
// block with a large cache, some with a cache smaller than a batch.
TEST(DevicePipeline, ServesHostCacheHitsAsStagedRuns) {
  TempFile a(build_bigwig(generated_spec(1, true)));
  TempFile raw(build_bigwig(generated_spec(3, false)));
  for (uint64_t cache_bytes : {uint64_t{1} << 30, uint64_t{40} << 10}) {
    Collection collection({a.path(), raw.path()}, 1, cache_bytes);
    sweep(collection, "cached " + std::to_string(cache_bytes), 1000, 17);
    sweep(collection, "cached, inflate in chunks " + std::to_string(cache_bytes), 1000, 19, 64u << 10);
    const bwl::engine::CacheInfo info = collection.cache().info();
    EXPECT_GT(info.hits, 0u);
    if (cache_bytes > (1u << 20)) EXPECT_EQ(info.evictions, 0u);
    BatchRequest r;
    r.chroms = {static_cast<uint32_t>(collection.find_chrom("chr1"))};
    r.starts = {100};
    r.length = 5000;
    r.tracks = {0, 1};
    r.scales = {1.0f, 2.0f};
    run_cpu(collection, r);
    const bwl::engine::BatchPlan plan = bwl::engine::plan_batch(collection, r);
    const auto hits = bwl::engine::find_cached_blocks(collection, plan);
    const auto layout = bwl::engine::lay_out_device_batch(collection, plan, hits);
    for (size_t i = 0; i < plan.blocks.size(); ++i) {
      if (!hits[i]) continue;
      EXPECT_EQ(layout.blocks[i].cached, 1u);
      EXPECT_EQ(layout.blocks[i].out_capacity, 0u);  // no inflate space for a hit
      EXPECT_EQ(layout.blocks[i].in_offset % alignof(bwl::stages::Run), 0u);
      EXPECT_EQ(layout.blocks[i].in_size, hits[i]->runs.size() * sizeof(bwl::stages::Run));
    }
    expect_same_bytes(collection, r, "cached chr1");
  }
}

TEST(DevicePipeline, MatchesTheCpuBackendOnTheRealFiles) {
  const std::vector<std::string> paths = bwl::test::real_bigwig_paths();
  ASSERT_GE(paths.size(), 10u);
  for (const std::string& path : paths) {
    Collection collection({path}, 1);
    sweep(collection, path, 1000, 11);
  }
}

TEST(DevicePipeline, ACorruptBlockNamesTheFileAndOffset) {
  FileSpec spec = generated_spec(4, true);
  Layout layout;
  Bytes bytes = build_bigwig(spec, &layout);
  // Break the compressed stream of block 1 past its zlib header.
  bytes[layout.block_offsets[1] + 4] ^= 0xFF;
  bytes[layout.block_offsets[1] + 5] ^= 0xFF;
  TempFile bad(bytes);
  Collection collection({bad.path()}, 1);
  BatchRequest r;
  r.chroms = {static_cast<uint32_t>(collection.find_chrom("chr1"))};
  r.starts = {0};
  r.length = 60000;
  r.tracks = {0};
  r.scales = {1.0f};
  try {
    run_staged_on_host(collection, r);
    FAIL() << "a corrupt block was not reported";
  } catch (const bwl::FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(bad.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte offset " + std::to_string(layout.block_offsets[1])), std::string::npos) << msg;
  }
  EXPECT_THROW(run_cpu(collection, r), bwl::FormatError);
}

TEST(DevicePipeline, ItemsOverlappingAcrossBlocksAreRefusedAsTheCpuBackendRefusesThem) {
  // Block 0: [0, 10) = 1; block 1: [5, 15) = 2 (a corrupt file). Every fill path, cache on or off
  // (hits are staged as runs), reports both blocks' offsets.
  FileSpec spec;
  spec.chroms = {{"chr1", 1000}};
  spec.blocks.push_back(Block{bedgraph_section(0, {{0, 10, 1.0f}}), 0, 0, 0, 10});
  spec.blocks.push_back(Block{bedgraph_section(0, {{5, 15, 2.0f}}), 0, 5, 0, 15});
  Layout layout;
  TempFile bad(build_bigwig(spec, &layout));
  for (uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
    Collection collection({bad.path()}, 1, cache_bytes);
    for (uint32_t window_size : {1u, 8u}) {
      BatchRequest r;
      r.chroms = {0, 0};
      r.starts = {64, 0};  // the first window reads neither item: the second column reports
      r.length = 64;
      r.window_size = window_size;
      r.tracks = {0};
      r.scales = {1.0f};
      EXPECT_THROW(run_cpu(collection, r), bwl::FormatError);  // fills the cache when it is on
      try {
        run_staged_on_host(collection, r);
        FAIL() << "window_size " << window_size << ", cache " << cache_bytes << ": overlap not reported";
      } catch (const bwl::FormatError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(bad.path()), std::string::npos) << msg;
        EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
        EXPECT_NE(msg.find(std::to_string(layout.block_offsets[0])), std::string::npos) << msg;
        EXPECT_NE(msg.find("byte offset " + std::to_string(layout.block_offsets[1])), std::string::npos) << msg;
      }
    }
  }
}

TEST(DevicePipeline, ChunkedInflateMatchesTheCpuBackend) {
  // Caps far below a batch's arena: every block alone (cap 1, below any block's capacity), and
  // a few blocks a chunk; the uncompressed file's blocks need no arena at all.
  TempFile a(build_bigwig(generated_spec(5, true)));
  TempFile raw(build_bigwig(generated_spec(6, false)));
  Collection collection({a.path(), raw.path()}, 1);
  const uint32_t capacity = collection.file(0).header().uncompress_buf_size;
  ASSERT_GT(capacity, 0u);
  sweep(collection, "every block its own chunk", 1000, 12, 1);
  sweep(collection, "three blocks a chunk", 7 * 128, 13, 3 * uint64_t{capacity});
}

float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

TEST(DevicePipeline, StoredNanPayloadsComeOutAsTheCanonicalNan) {
  // NaN as files may store it: negative, with payloads, signalling. Both backends' output store
  // writes 0x7FC00000 (float32) / 0x7FC0 (bfloat16) for each, alone or inside a window's mean,
  // scaled or not; a NaN default with a payload too.
  const uint32_t payloads[] = {0x7FC00000u, 0xFFC00000u, 0x7FC12345u, 0xFFFFFFFFu, 0x7F800001u, 0x7FBFFFFFu};
  std::vector<BedGraphItem> items;
  uint32_t pos = 10;
  for (int repeat = 0; repeat < 20; ++repeat) {
    for (uint32_t bits : payloads) {
      items.push_back({pos, pos + 3, float_from_bits(bits)});
      items.push_back({pos + 3, pos + 5, 1.5f});
      pos += 9;
    }
  }
  FileSpec spec;
  spec.chroms = {{"chr1", 5000}};
  Block block{};
  block.start_chrom = block.end_chrom = 0;
  block.start_base = items.front().start;
  block.end_base = items.back().end;
  block.data = bedgraph_section(0, items);
  spec.blocks.push_back(block);
  TempFile file(build_bigwig(spec));
  Collection collection({file.path()}, 1);
  for (uint32_t window : {1u, 4u}) {
    for (float default_value : {0.0f, float_from_bits(0xFFC0BEEFu)}) {
      for (bwl::DType dtype : {bwl::DType::Float32, bwl::DType::BFloat16}) {
        BatchRequest r;
        r.chroms = {0, 0};
        r.starts = {0, 400};
        r.length = 1200;
        r.tracks = {0};
        r.scales = {window == 4 ? 2.0f : 1.0f};
        r.window_size = window;
        r.default_value = default_value;
        r.dtype = dtype;
        const std::string what =
            "window " + std::to_string(window) + (dtype == bwl::DType::BFloat16 ? " bf16" : " f32");
        const std::vector<uint8_t> out = run_cpu(collection, r);
        size_t nans = 0;
        for (size_t i = 0; i < out.size(); i += element_bytes(dtype)) {
          if (dtype == bwl::DType::Float32) {
            uint32_t bits;
            std::memcpy(&bits, out.data() + i, 4);
            if (std::isnan(float_from_bits(bits))) {
              ++nans;
              ASSERT_EQ(bits, 0x7FC00000u) << what << " element " << i / 4;
            }
          } else {
            uint16_t bits;
            std::memcpy(&bits, out.data() + i, 2);
            if ((bits & 0x7FFFu) > 0x7F80u) {
              ++nans;
              ASSERT_EQ(bits, 0x7FC0u) << what << " element " << i / 2;
            }
          }
        }
        EXPECT_GT(nans, 100u) << what;
        expect_same_bytes(collection, r, what);  // the device pipeline's store, run on the host
      }
    }
  }
}
