#include "cpu/cpu_batch_processor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include "common/errors.hpp"
#include "engine/block_tasks.hpp"
#include "stages/column_fill.hpp"
#include "stages/output_store.hpp"
#include "tensor/transforms.hpp"

namespace bwl::cpu {
namespace {

// Batches of at least this many planned blocks look them up in the cache on the pool.
constexpr size_t kParallelLookupBlocks = 1024;
// The worker's tile holds at most this many cells (256 KiB: inside a core's L2 cache).
constexpr size_t kTileCells = 64 * 1024;
// A window of more than kLongWindowCells cells over several tracks is filled in stretches of
// kStretchCells cells, each as a window of its own (stretch_query), on the pool like windows. A
// tile then holds sixteen tracks of a stretch, whole 64-byte lines of the batch's rows, in groups
// of four straight into them. A whole long window had left room in the tile for a few tracks a
// round, five or fewer: every row's line written again each round, through the tile wherever the
// round was not a group of four (16 tracks, warm, 2 threads, billion base-tracks/s: windows of
// 8,192 bases 1.9-2.7; of 12,000 0.96; 20,000 0.92; 114,688 0.47-0.55). Stretched: 1.8, 2.3 and
// 1.7-2.6 (the same cells, bit for bit). One track is one contiguous column either way, and
// stretches only add their searches (0.9x): it keeps its whole window.
constexpr uint32_t kLongWindowCells = 8 * 1024;
constexpr uint32_t kStretchCells = 4 * 1024;
// Column::fill_cells writes runs of cells kFillStep at a time (one 16-byte store), or where a
// block's runs under the window are long (kBurstBasesPerRun) kFillBurst at a time, up to
// kFillSlack past the end.
constexpr int64_t kFillStep = 4;
constexpr int64_t kFillBurst = 64;
constexpr size_t kFillSlack = kFillBurst - 1;
// Runs averaging at least this many bases under a window are filled in bursts: a run of up to
// kFillBurst cells is then one burst, whose loop exit the CPU predicts, where a loop of one store
// a kFillStep mispredicts its exit at nearly every run of varied length (warm, 2 threads, the two
// alternating in one process: ENCFF826FLP, runs of median 11 and mean 115 bases, 50,000 windows
// 1.10-1.18x; 16 tracks of 50-base runs x 256 windows 1.09-1.10x; 4 tracks x 4,096 1.09-1.15x).
// Shorter runs keep a store or two each (a track of one-base runs: 1.00x; bursts there: 0.62x).
constexpr uint64_t kBurstBasesPerRun = 8;
// Fills of at most this many bases (windows x tracks x window length: the runs a fill walks
// grow with the bases, the stores with the cells) run on the calling thread alone (run_locked).
constexpr size_t kInlineFillBases = 32 * 1024;

// The runs of a block that column q's fill reads: a cached block holds every run of the block,
// and the arena the runs of all the batch's windows on it, so when they are ordered only the
// stretch under this window is passed (the rest would be skipped one by one: cold, a block read
// by three windows had each column scan all three windows' runs).
template <typename BlockRuns>
std::pair<const stages::Run*, uint32_t> column_runs(const BlockRuns& b, const stages::ColumnQuery& q) {
  if (!b.ordered) return {b.runs, b.count};
  return engine::CachedRuns::window_stretch(b.runs, b.count, b.extent, q.chrom_id, q.lo, q.hi);
}

// Column query q of a window of `cells` cells of `window_size` bases, narrowed to its cells
// [c0, c1) as a window of its own: cell c0 is its cell 0, and its bases that may hold data are
// q's inside those cells (none: lo = hi = 0, as the plan marks a window off its chromosome). A
// cell's bases all lie in one stretch, so the stretch's cells are the window's, bit for bit.
stages::ColumnQuery stretch_query(const stages::ColumnQuery& q, uint32_t window_size, uint32_t cells, uint32_t c0,
                                  uint32_t c1) {
  if (c0 == 0 && c1 == cells) return q;
  stages::ColumnQuery s = q;
  s.window_start = q.window_start + int64_t{c0} * window_size;
  const int64_t lo = std::max<int64_t>(q.lo, s.window_start);
  const int64_t hi = std::min<int64_t>(q.hi, s.window_start + int64_t{c1 - c0} * window_size);
  s.lo = lo < hi ? static_cast<uint32_t>(lo) : 0;
  s.hi = lo < hi ? static_cast<uint32_t>(hi) : 0;
  return s;
}

// Asks the memory system for the lines column_runs will read of an ordered block: those around
// the search's first guess and the stretch a window of q's width covers, were runs of equal
// length. Issued for a (window, track slice) pair's columns one pair ahead of its fill, so that
// their cache misses overlap the fill before instead of each search waiting for its own. A wrong guess
// costs only the lines it fetched in vain: the search is exact whatever is in the cache.
template <typename BlockRuns>
void prefetch_stretch(const BlockRuns& b, const stages::ColumnQuery& q) {
  if (!b.ordered || b.count == 0 || q.lo >= q.hi) return;
  const uint32_t hint = engine::CachedRuns::stretch_hint(b.count, b.extent, q.chrom_id, q.lo);
  const uint64_t span = b.extent.last_end > b.extent.first_start ? b.extent.last_end - b.extent.first_start : 1;
  const uint64_t expected = uint64_t{q.hi - q.lo} * b.count / span + 1;  // runs under the window
  constexpr uint32_t kRunsPerLine = 64 / sizeof(stages::Run);
  constexpr uint64_t kMaxLines = 16;
  const uint32_t from = hint > kRunsPerLine ? hint - kRunsPerLine : 0;
  const uint64_t to = std::min<uint64_t>(b.count, hint + std::min(expected, kMaxLines * kRunsPerLine) + kRunsPerLine);
  for (uint64_t r = from; r < to; r += kRunsPerLine) __builtin_prefetch(b.runs + r);
}

// Batches of at least this many bytes take their float32 tiles with non-temporal ("streaming")
// stores: such a batch is larger than the caches and is read by its consumer later, so ordinary
// stores would first read every line of it from memory (the write-allocate) and evict it again.
// Measured on 16 tracks x 1 kb, warm: batch 64 (4 MB) +6-19%, 256 +6-40%, 4,096 +12-17%; at
// batch 16 (1 MB) no gain, so smaller batches stay cached for a consumer that reads them at once.
constexpr size_t kStreamingOutputBytes = size_t{4} << 20;

#if defined(__SSE2__)
// The four vectors with any NaN lane replaced by the canonical NaN (stages::canonical).
inline __m128 canonical4(__m128 v) {
  const __m128 canonical_nan = _mm_castsi128_ps(_mm_set1_epi32(static_cast<int>(stages::kCanonicalNanFloat32)));
  const __m128 nan = _mm_cmpunord_ps(v, v);
  return _mm_or_ps(_mm_and_ps(nan, canonical_nan), _mm_andnot_ps(nan, v));
}
#endif

// dst[j] = values[j] for j in [0, n), NaN canonical, as stages::store_outputs stores float32, with
// streaming stores where dst is 16-byte aligned (the head and tail before and after: ordinary).
void store_float32_streaming(float* dst, const float* values, size_t n) {
  size_t j = 0;
#if defined(__SSE2__)
  for (; j < n && reinterpret_cast<uintptr_t>(dst + j) % 16 != 0; ++j) dst[j] = stages::canonical(values[j]);
  for (; j + 4 <= n; j += 4) _mm_stream_ps(dst + j, canonical4(_mm_loadu_ps(values + j)));
  _mm_sfence();  // streaming stores are weakly ordered: complete them before the task ends
#endif
  for (; j < n; ++j) dst[j] = stages::canonical(values[j]);
}

// Whether transpose_store_float32 can take a tile of `width` columns into rows `row_stride`
// floats apart from `rows`: whole 4x4 blocks of tracks, every row's first store 16-byte aligned.
bool transpose_store_fits(size_t width, size_t row_stride, const float* rows) {
#if defined(__SSE2__)
  return width % 4 == 0 && row_stride % 4 == 0 && reinterpret_cast<uintptr_t>(rows) % 16 == 0;
#else
  (void)width, (void)row_stride, (void)rows;
  return false;
#endif
}

// rows[i * row_stride + k] = columns[k * n + i], NaN canonical (as stages::store_outputs stores
// float32): `width` columns of n cells each, transposed four tracks by four cells in registers
// and stored straight into the batch, with no tile between (writing a tile and reading it back
// had been half the fill's own time in a warm batch of 16 tracks), and with `kStreaming`
// non-temporal stores (kStreamingOutputBytes). Cells are the outer loop, so each group of four
// completes four rows front to back: a streaming store's line is whole before the next is begun.
// Needs transpose_store_fits.
template <bool kStreaming>
void transpose_store_float32(const float* columns, size_t n, size_t width, float* rows, size_t row_stride) {
#if defined(__SSE2__)
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float* row = rows + i * row_stride;
    for (size_t k = 0; k < width; k += 4) {
      const float* c = columns + k * n + i;
      __m128 r0 = canonical4(_mm_loadu_ps(c)), r1 = canonical4(_mm_loadu_ps(c + n)),
             r2 = canonical4(_mm_loadu_ps(c + 2 * n)), r3 = canonical4(_mm_loadu_ps(c + 3 * n));
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      if constexpr (kStreaming) {
        _mm_stream_ps(row + k, r0);
        _mm_stream_ps(row + row_stride + k, r1);
        _mm_stream_ps(row + 2 * row_stride + k, r2);
        _mm_stream_ps(row + 3 * row_stride + k, r3);
      } else {
        _mm_storeu_ps(row + k, r0);
        _mm_storeu_ps(row + row_stride + k, r1);
        _mm_storeu_ps(row + 2 * row_stride + k, r2);
        _mm_storeu_ps(row + 3 * row_stride + k, r3);
      }
    }
  }
  for (; i < n; ++i) {
    for (size_t k = 0; k < width; ++k) rows[i * row_stride + k] = stages::canonical(columns[k * n + i]);
  }
  if constexpr (kStreaming) _mm_sfence();  // streaming stores are weakly ordered: complete them before the task ends
#else
  (void)columns, (void)n, (void)width, (void)rows, (void)row_stride;
#endif
}

// rows[i * width + k] = columns[k * n + i]: `width` columns of n cells each into n rows of
// `width`, four columns by four cells at a time (one 4x4 transpose in registers each).
void transpose_columns(const float* columns, size_t n, size_t width, float* rows) {
  size_t k = 0;
#if defined(__SSE2__)
  for (; k + 4 <= width; k += 4) {
    const float* c = columns + k * n;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      __m128 r0 = _mm_loadu_ps(c + i), r1 = _mm_loadu_ps(c + n + i), r2 = _mm_loadu_ps(c + 2 * n + i),
             r3 = _mm_loadu_ps(c + 3 * n + i);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      float* row = rows + i * width + k;
      _mm_storeu_ps(row, r0);
      _mm_storeu_ps(row + width, r1);
      _mm_storeu_ps(row + 2 * width, r2);
      _mm_storeu_ps(row + 3 * width, r3);
    }
    for (; i < n; ++i) {
      for (size_t j = 0; j < 4; ++j) rows[i * width + k + j] = c[j * n + i];
    }
  }
#endif
  for (; k < width; ++k) {
    for (size_t i = 0; i < n; ++i) rows[i * width + k] = columns[k * n + i];
  }
}

}  // namespace

CpuBatchProcessor::CpuBatchProcessor(size_t n_threads) : pool_(n_threads), scratch_(pool_.size()) {}

namespace {
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void CpuBatchProcessor::time_stages(bool on) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  timing_ = on;
  times_ = CpuStageTimes{};
}

CpuStageTimes CpuBatchProcessor::stage_times() {
  std::lock_guard<std::mutex> lock(run_mutex_);
  return times_;
}

template <typename Task>
void CpuBatchProcessor::run_phase(size_t n, bool inline_, double& wall_ms, double& work_ms, double& longest_ms,
                                  Task&& task) {
  auto dispatch = [&](auto&& each) {
    if (inline_) {
      for (size_t i = 0; i < n; ++i) each(i, 0);
    } else {
      pool_.parallel_for(n, each);
    }
  };
  if (!timing_) {
    dispatch(task);
    return;
  }
  worker_work_ms_.assign(pool_.size(), 0.0);
  worker_longest_ms_.assign(pool_.size(), 0.0);
  const double start = now_ms();
  dispatch([&](size_t i, size_t worker) {
    const double t0 = now_ms();
    task(i, worker);
    const double t = now_ms() - t0;
    worker_work_ms_[worker] += t;  // each worker writes only its own slot
    worker_longest_ms_[worker] = std::max(worker_longest_ms_[worker], t);
  });
  wall_ms += now_ms() - start;
  double longest = 0;
  for (size_t w = 0; w < pool_.size(); ++w) {
    work_ms += worker_work_ms_[w];
    longest = std::max(longest, worker_longest_ms_[w]);
  }
  longest_ms += longest;
}

void CpuBatchProcessor::decode_planned_blocks(const engine::Collection& collection, const engine::BatchPlan& plan,
                                              size_t first, size_t last, WorkerScratch& scratch, size_t worker) {
  const uint32_t f = plan.blocks[misses_[first]].file;
  const format::BigWigFile& file = collection.file(f);
  std::vector<uint32_t>& numbers = scratch.block_numbers;
  numbers.clear();
  for (size_t m = first; m < last; ++m) numbers.push_back(plan.blocks[misses_[m]].block);
  size_t m = first;
  engine::BlockCache& cache = collection.cache();
  if (cache.enabled()) {
    // Every run of the block, so that the entry serves any later window, decoded straight into
    // a new entry of exactly the block's item count (a decode into scratch and a copy into the
    // entry was much of what the cache cost a batch of never-seen windows).
    std::shared_ptr<engine::CachedRuns> entry;
    format::decode_blocks_into(
        file.file(), file.header(), file.block_index(), numbers, scratch.blocks,
        [&](const stages::Run*, uint32_t n) {
          const uint32_t p = misses_[m++];
          engine::CachedRuns::finish(*entry, n);
          held_[p] = entry;
          cache.insert(f, plan.blocks[p].block, std::move(entry));
        },
        format::KeepAllRunsOfEveryBlock{},
        [&](const uint8_t* bytes, uint32_t size) {
          const uint32_t capacity = stages::count_items(bytes, size);
          entry = engine::CachedRuns::with_room(capacity);
          return std::pair<stages::Run*, uint32_t>{entry->runs.data(), capacity};
        });
    return;
  }
  // Each block keeps only the runs its windows need (the plan's bounding range), decoded and
  // filtered in one pass.
  auto keep_for = [&](size_t i) {
    const engine::PlannedBlock& pb = plan.blocks[misses_[first + i]];
    return stages::KeepNeededRuns{pb.mixed_chroms, pb.chrom_id, pb.need_lo, pb.need_hi};
  };
  // Decoded straight into the worker's arena, after the runs already there: the arena is the
  // runs' one home (a decode into scratch and a copy cost 3% of a cold batch).
  format::decode_blocks_into(
      file.file(), file.header(), file.block_index(), numbers, scratch.blocks,
      [&](const stages::Run* runs, uint32_t n) {
        // Searchable without a check: the decode refused items out of order (RunSpan).
        spans_[misses_[m++]] =
            RunSpan{static_cast<uint32_t>(worker), n, scratch.arena_size, engine::RunsExtent::of(runs, n)};
        scratch.arena_size += n;
      },
      keep_for,
      [&](const uint8_t*, uint32_t bytes) {
        const uint32_t capacity = stages::max_runs_in_block(bytes);
        return std::pair<stages::Run*, uint32_t>{
            scratch.arena.reserve_keeping(scratch.arena_size + capacity, scratch.arena_size) + scratch.arena_size,
            capacity};
      });
}

// Column `column` as fill_column_cells sees it: its blocks' runs (in the workers' arenas or in
// cache entries: block_runs_), its cells contiguous at `cells` (fill_tracks lays a tile's columns
// out [track][cell] and transposes them into the batch's [cell][track]). At window_size 1 the
// default goes into the gaps between the runs as they come, each run one fill of whole 16-byte
// stores (fill_cells: up to kFillSlack cells past a run are written again by what follows it),
// so every cell is written once or, past a run's or gap's end, again. Runs of two blocks that
// overlap are refused with the error naming the file and both blocks.
struct CpuBatchProcessor::Column {
  const CpuBatchProcessor& processor;
  const engine::Collection& collection;
  const engine::BatchPlan& plan;
  const stages::ColumnQuery& q;
  const uint32_t* blocks;  // the column's planned blocks
  uint32_t count;
  WorkerScratch& scratch;
  float* cells;
  float default_value;
  int64_t stored_to = 0;  // window_size 1: cells [0, stored_to) are written
  bool bursts = false;    // fill_cells stores kFillBurst cells at a time (set for each block by runs)

  uint32_t n_blocks() const { return count; }
  const stages::Run* runs(uint32_t j, uint32_t& n) {
    const auto [runs, size] = column_runs(processor.block_runs_[blocks[j]], q);
    n = size;
    // The bases the block's run stretch (window_stretch) spans inside the window, against its
    // runs (not the window's bases: a long window over many blocks of one-base runs would look
    // sparse in every block).
    uint64_t span = 0;
    if (size > 0) {
      const uint32_t from = std::max(runs[0].start, q.lo), to = std::min(runs[size - 1].end, q.hi);
      span = to > from ? to - from : 0;
    }
    bursts = size == 0 || span >= kBurstBasesPerRun * size;
    return runs;
  }
  void store(int64_t cell, float x) const { cells[cell] = x; }
  void store_run(int64_t first, int64_t last, float x) {
    // Runs come in order (a column whose runs overlap is refused after its block: the cells
    // written twice are never returned).
    fill_cells(stored_to, first, default_value);
    fill_cells(first, last, x);
    if (last > stored_to) stored_to = last;
  }
  void end_runs(uint32_t n_cells) { fill_cells(stored_to, n_cells, default_value); }
  // cells [first, last) = x, in whole stores of kFillStep cells from `first` (or bursts of
  // kFillBurst): the last store may write up to kFillSlack cells past `last`. Those are written
  // again before anything reads them: cells are stored in order (the next run or gap starts at
  // `last` or later, end_runs fills to the column's end, and a column whose runs overlap is
  // refused), and past a column's last cell lie the next column's cells, filled after it, or the
  // buffer's kFillSlack.
  void fill_cells(int64_t first, int64_t last, float x) const {
#if defined(__SSE2__)
    const __m128 v = _mm_set1_ps(x);
    if (bursts) {
      for (float *p = cells + first, *const end = cells + last; p < end; p += kFillBurst) {
#pragma GCC unroll 16
        for (int64_t i = 0; i < kFillBurst; i += kFillStep) _mm_storeu_ps(p + i, v);
      }
      return;
    }
    for (int64_t i = first; i < last; i += kFillStep) _mm_storeu_ps(cells + i, v);
#else
    for (int64_t i = first; i < last; ++i) cells[i] = x;
#endif
  }
  double& sum(int64_t cell) const { return scratch.sums[cell]; }
  uint32_t& covered(int64_t cell) const { return scratch.covered[cell]; }
  [[noreturn]] void overlap(uint32_t earlier, uint32_t later) const {
    engine::throw_overlapping_blocks(collection, plan, blocks[earlier], blocks[later]);
  }
};

void CpuBatchProcessor::check_window_order(const engine::Collection& collection, const engine::BatchPlan& plan,
                                           size_t column) const {
  // The runs fill_column_cells would keep over the whole window, through the same filter and
  // the same per-block check (stages::BlockOrder), with nothing stored.
  const stages::ColumnQuery& q = plan.columns[column];
  const uint32_t* blocks = plan.column_blocks.data() + plan.column_begin[column];
  struct Refusal {
    const engine::Collection& collection;
    const engine::BatchPlan& plan;
    const uint32_t* blocks;
    [[noreturn]] void overlap(uint32_t earlier, uint32_t later) const {
      engine::throw_overlapping_blocks(collection, plan, blocks[earlier], blocks[later]);
    }
  } refusal{collection, plan, blocks};
  stages::BlockOrder order;
  for (uint32_t j = 0; j < plan.column_begin[column + 1] - plan.column_begin[column]; ++j) {
    const auto [runs, n] = column_runs(block_runs_[blocks[j]], q);
    order.begin_block();
    for (uint32_t r = 0; r < n; ++r) {
      if (runs[r].chrom_id != q.chrom_id || runs[r].end <= q.lo || runs[r].start >= q.hi) continue;
      order.order.keep(runs[r]);
    }
    order.end_block(j, refusal);
  }
}

void CpuBatchProcessor::fill_tracks(const engine::Collection& collection, const engine::BatchRequest& request,
                                    const engine::BatchPlan& plan, size_t w, size_t k0, size_t k1, uint32_t c0,
                                    uint32_t c1, WorkerScratch& scratch, void* out) {
  const uint32_t n_cells = c1 - c0;
  // The batch's offset of cell c0 of window w, track 0.
  const size_t first_row = (w * plan.cells + c0) * plan.n_tracks;
  const size_t per_tile = std::max<size_t>(1, kTileCells / n_cells);
  for (size_t a = k0; a < k1; a += per_tile) {
    const size_t b = std::min(k1, a + per_tile);
    const size_t width = b - a;
    // One column: its cells are the tile. Several: each fills its own contiguous stretch of
    // `columns`, then one transpose lays them out as the batch does: straight into the batch
    // where float32 rows fit transpose_store_float32, else into the tile.
    const size_t output_bytes = size_t{plan.batch} * plan.cells * plan.n_tracks * dtype_bytes(request.dtype);
    const bool streaming = width == plan.n_tracks && output_bytes >= kStreamingOutputBytes;
    float* const rows = request.dtype == DType::Float32 ? static_cast<float*>(out) + first_row + a : nullptr;
    const bool direct = width > 1 && rows != nullptr && transpose_store_fits(width, plan.n_tracks, rows);
    // The buffer the columns fill has kFillSlack cells past them (Column::fill_cells).
    if (!direct) scratch.tile.resize(n_cells * width + (width > 1 ? 0 : kFillSlack));
    if (width > 1) scratch.columns.resize(n_cells * width + kFillSlack);
    float* const column_cells = width > 1 ? scratch.columns.data() : scratch.tile.data();
    for (size_t k = a; k < b; ++k) {
      const size_t column = w * plan.n_tracks + k;
      if (request.window_size > 1) {
        scratch.sums.assign(n_cells, 0.0);
        scratch.covered.assign(n_cells, 0);
      }
      const uint32_t first = plan.column_begin[column];
      const stages::ColumnQuery q = stretch_query(plan.columns[column], request.window_size, plan.cells, c0, c1);
      Column cells{*this,
                   collection,
                   plan,
                   q,
                   plan.column_blocks.data() + first,
                   plan.column_begin[column + 1] - first,
                   scratch,
                   column_cells + (k - a) * n_cells,
                   request.default_value};
      stages::fill_column_cells(q, request.scales[k], request.window_size, request.default_value, n_cells, cells);
    }
    if (direct) {
      if (streaming) {
        transpose_store_float32<true>(scratch.columns.data(), n_cells, width, rows, plan.n_tracks);
      } else {
        transpose_store_float32<false>(scratch.columns.data(), n_cells, width, rows, plan.n_tracks);
      }
      continue;
    }
    if (width > 1) transpose_columns(scratch.columns.data(), n_cells, width, scratch.tile.data());
    // The tile's rows into the batch, through the output store the CUDA kernels use too
    // (canonical NaN: stages/output_store.hpp). A tile of every track is the window's whole
    // slice of the batch, one contiguous stretch: one loop, not a short one per cell.
    const float* tile = scratch.tile.data();
    if (streaming && request.dtype == DType::Float32) {
      store_float32_streaming(static_cast<float*>(out) + first_row, tile, size_t{n_cells} * width);
    } else if (width == plan.n_tracks) {
      stages::store_outputs(out, first_row, request.dtype, tile, size_t{n_cells} * width);
    } else {
      for (uint32_t i = 0; i < n_cells; ++i) {
        stages::store_outputs(out, first_row + size_t{i} * plan.n_tracks + a, request.dtype, tile + size_t{i} * width,
                              width);
      }
    }
  }
}

engine::BatchPlan CpuBatchProcessor::plan(const engine::Collection& collection, const engine::BatchRequest& request) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  const double start = timing_ ? now_ms() : 0;
  const engine::PlanThreads threads{pool_.size(), [&](size_t n, const std::function<void(size_t, size_t)>& task) {
                                      run_phase(n, n == 1, times_.plan_search_ms, times_.plan_search_work_ms,
                                                times_.plan_search_longest_task_ms, task);
                                    }};
  engine::BatchPlan plan = engine::plan_batch(collection, request, &threads);
  if (timing_) times_.plan_ms += now_ms() - start;
  return plan;
}

void CpuBatchProcessor::run(const engine::Collection& collection, const engine::BatchRequest& request,
                            const engine::BatchPlan& plan, void* out) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  run_locked(collection, request, plan, out);
}

std::shared_ptr<Tensor> CpuBatchProcessor::fill_new_values(const engine::Collection& collection,
                                                           const engine::BatchRequest& request,
                                                           const engine::BatchPlan& plan) {
  auto values = std::make_shared<HostTensor>(plan.output_shape(), request.dtype);
  run(collection, request, plan, values->data());
  return values;
}

// The tensors the hooks see are the HostTensors fill_new_values made.
void CpuBatchProcessor::smooth(Tensor& values, int64_t width) {
  moving_average_rows(static_cast<HostTensor&>(values), width);
}

void CpuBatchProcessor::flip(Tensor& values, const std::vector<uint8_t>& flip,
                             const std::vector<int64_t>& permutation) {
  flip_rows(static_cast<HostTensor&>(values), flip, permutation);
}

void CpuBatchProcessor::run_locked(const engine::Collection& collection, const engine::BatchRequest& request,
                                   const engine::BatchPlan& plan, void* out) {
  // This batch's cache entries are released when run() returns, error or not; held_ keeps its
  // capacity.
  struct ReleaseHeld {
    std::vector<engine::CachedBlock>& held;
    ~ReleaseHeld() { std::fill(held.begin(), held.end(), nullptr); }
  } release{held_};
  for (WorkerScratch& s : scratch_) s.arena_size = 0;
  const size_t n_blocks = plan.blocks.size();
  spans_.assign(n_blocks, RunSpan{0, 0, 0, {}});
  misses_.clear();

  // Phase 0: cache hits (held_ gets one entry or null per planned block), in ranges of planned
  // blocks on the pool where there are many (a warm batch's lookups were most of its serial
  // part: ~140 ns a block, each a few cache misses).
  if (timing_) ++times_.batches;
  held_.assign(n_blocks, nullptr);
  if (collection.cache().enabled()) {
    const size_t lookups = n_blocks >= kParallelLookupBlocks ? pool_.size() * 2 : 1;
    run_phase(lookups, lookups == 1, times_.lookup_ms, times_.lookup_work_ms, times_.lookup_longest_task_ms,
              [&](size_t t, size_t) {
                engine::find_cached_blocks(collection, plan, n_blocks * t / lookups, n_blocks * (t + 1) / lookups,
                                           held_.data());
              });
  }
  for (size_t p = 0; p < n_blocks; ++p) {
    if (!held_[p]) misses_.push_back(static_cast<uint32_t>(p));
  }

  // Phase 1: tasks of up to kBlocksPerTask missed blocks, never crossing a file.
  const std::vector<size_t> task_start =
      engine::block_task_starts(misses_.size(), [&](size_t m) { return plan.blocks[misses_[m]].file; });
  run_phase(task_start.size() - 1, false, times_.decode_ms, times_.decode_work_ms, times_.decode_longest_task_ms,
            [&](size_t t, size_t worker) {
              decode_planned_blocks(collection, plan, task_start[t], task_start[t + 1], scratch_[worker], worker);
            });

  // The arenas no longer grow: every planned block's runs can be pointed at.
  block_runs_.resize(n_blocks);
  for (size_t p = 0; p < n_blocks; ++p) {
    if (held_[p]) {
      block_runs_[p] = BlockRuns{held_[p]->runs.data(), static_cast<uint32_t>(held_[p]->runs.size()), held_[p]->ordered,
                                 held_[p]->extent};
    } else {
      const RunSpan& span = spans_[p];
      block_runs_[p] = BlockRuns{scratch_[span.worker].arena.data() + span.offset, span.count, true, span.extent};
    }
  }

  // Phase 2: one task per window and slice of tracks, so that even a batch of one window with
  // many tracks spreads over the pool.
  const size_t n_columns = plan.batch * plan.n_tracks;
  if (n_columns == 0 || plan.cells == 0) return;
  // A fill this small takes less time on the calling thread alone than waking the workers
  // (a futex wake each, and a wait for the slowest to be scheduled); alone, it takes every track
  // of a window at once (one tile, one contiguous store).
  const bool inline_fill = n_columns * static_cast<size_t>(request.length) <= kInlineFillBases;
  // Long windows in stretches of cells (kLongWindowCells), each filled as a window of its own.
  const uint32_t stretch_cells = plan.cells > kLongWindowCells && plan.n_tracks > 1 ? kStretchCells : plan.cells;
  const size_t stretches = (plan.cells + stretch_cells - 1) / stretch_cells;
  const size_t target_tasks = pool_.size() * 8;
  const size_t tracks_per_task =
      inline_fill
          ? plan.n_tracks
          : std::max<size_t>(1, std::min(plan.n_tracks, (n_columns * stretches + target_tasks - 1) / target_tasks));
  const size_t slices = (plan.n_tracks + tracks_per_task - 1) / tracks_per_task;
  // A task takes a run of (window, stretch, slice) pairs: with few tracks a large batch would
  // otherwise be a task a window (50,000 of them, each taken under the pool's lock), with many, a
  // pair a task. A window's pairs are consecutive, its stretches in order: a task writes on along
  // the batch.
  const size_t pairs = plan.batch * stretches * slices;
  const size_t pairs_per_task = std::max<size_t>(1, pairs / target_tasks);
  // A stretch sees only its own runs, and runs of two blocks out of order need not share a base
  // (an empty item on a stretch's edge, or blocks in the wrong order): each stretched column's
  // order is first checked over its whole window, as the unstretched fill and the device check
  // it, so that a corrupt file is refused alike whatever the track count, naming the same two
  // blocks (one pass over the column's runs, no stores).
  if (stretches > 1) {
    const size_t checks = inline_fill ? 1 : std::min(n_columns, target_tasks);
    run_phase(checks, inline_fill, times_.fill_ms, times_.fill_work_ms, times_.fill_longest_task_ms,
              [&](size_t t, size_t) {
                for (size_t c = n_columns * t / checks; c < n_columns * (t + 1) / checks; ++c) {
                  check_window_order(collection, plan, c);
                }
              });
  }
  // Pair p: window p / (stretches x slices), its cells [c0, c1) of stretch (p / slices) %
  // stretches, tracks [k0, k1) of slice p % slices.
  struct Pair {
    size_t w, k0, k1;
    uint32_t c0, c1;
  };
  auto pair_of = [&](size_t p) {
    const size_t k0 = (p % slices) * tracks_per_task;
    Pair pair{p / slices, k0, std::min(plan.n_tracks, k0 + tracks_per_task), 0, plan.cells};
    if (stretches > 1) {  // (divisions a pair, where a batch of short windows has 100,000 pairs)
      pair.c0 = static_cast<uint32_t>(pair.w % stretches) * stretch_cells;
      pair.c1 = std::min(plan.cells, pair.c0 + stretch_cells);
      pair.w /= stretches;
    }
    return pair;
  };
  auto prefetch_pair = [&](size_t pair) {
    const auto [w, k0, k1, c0, c1] = pair_of(pair);
    for (size_t k = k0; k < k1; ++k) {
      const size_t column = w * plan.n_tracks + k;
      const stages::ColumnQuery q = stretch_query(plan.columns[column], request.window_size, plan.cells, c0, c1);
      for (uint32_t b = plan.column_begin[column]; b < plan.column_begin[column + 1]; ++b) {
        prefetch_stretch(block_runs_[plan.column_blocks[b]], q);
      }
    }
  };
  auto fill = [&](size_t t, size_t worker) {
    const size_t first = t * pairs_per_task, end = std::min(pairs, first + pairs_per_task);
    if (first < end) prefetch_pair(first);
    for (size_t pair = first; pair < end; ++pair) {
      // The next pair's runs are asked for before this pair is filled: their misses overlap
      // this pair's fill instead of the next search waiting for them.
      if (pair + 1 < end) prefetch_pair(pair + 1);
      const auto [w, k0, k1, c0, c1] = pair_of(pair);
      fill_tracks(collection, request, plan, w, k0, k1, c0, c1, scratch_[worker], out);
    }
  };
  run_phase((pairs + pairs_per_task - 1) / pairs_per_task, inline_fill, times_.fill_ms, times_.fill_work_ms,
            times_.fill_longest_task_ms, fill);
}

}  // namespace bwl::cpu
