#pragma once
// The CPU implementation of engine::BatchProcessor: plans the batch, then runs stages 2-5 on a
// pool of host threads.
//
//   phase 0, when the collection's block cache is on: look every planned block up (in ranges on
//     the pool when there are many); a hit's runs are used as they are (held by this batch until
//     its fill is done), and skip phase 1.
//   phase 1, per task of up to kBlocksPerTask missed planned blocks of one file: fetch
//     (a local file's blocks inflated in its mapping; else adjacent blocks in one read), inflate
//     (libdeflate), decode. Cache off: keep the runs the
//     batch needs in the worker's arena. Cache on: keep every run of the block in a new cache
//     entry, held by this batch and inserted into the cache. Each planned block is decoded at
//     most once.
//   phase 2, per task of one window x a slice of tracks: fill each output column from the
//     runs of its blocks, finalize windows, scale, convert, store. Output columns are disjoint,
//     so no two tasks write the same memory.
//
// Thread contract: load() may be called from several threads; calls on one processor take turns
// (the parallelism is inside a call). Scratch is per worker, allocated once and grown
// geometrically: nothing is allocated per block once warm.
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "common/scratch_buffer.hpp"
#include "common/thread_pool.hpp"
#include "engine/batch_processor.hpp"
#include "engine/block_cache.hpp"
#include "format/block_reader.hpp"

namespace bwl::cpu {

// Where a CPU batch's time goes, summed over the batches run while timing was on (benchmarks:
// the thread-scaling model of benchmarks/threads.py). Per parallel phase: its wall time, the
// time its tasks ran summed over all workers (the work), and its longest task (the phase's
// critical path: no number of threads makes the phase shorter), each summed over batches.
struct CpuStageTimes {
  double plan_ms = 0;  // the plan, all of it (its block searches included), wall
  // its phases on the pool: the file checks and block searches, and where the keys of several
  // files are sorted on the pool, each file's sort and numbering (engine::PlanThreads)
  double plan_search_ms = 0, plan_search_work_ms = 0, plan_search_longest_task_ms = 0;
  double lookup_ms = 0, lookup_work_ms = 0, lookup_longest_task_ms = 0;  // phase 0, the cache lookups
  double decode_ms = 0, decode_work_ms = 0, decode_longest_task_ms = 0;  // phase 1
  double fill_ms = 0, fill_work_ms = 0, fill_longest_task_ms = 0;        // phase 2
  uint64_t batches = 0;
};

class CpuBatchProcessor : public engine::BatchProcessor {
 public:
  // n_threads == 0: the CPUs this process may use.
  explicit CpuBatchProcessor(size_t n_threads);

  // load()'s `out`: host memory; its new tensors: HostTensors.
  int device() const override { return engine::kCpuDevice; }

  size_t n_threads() const override { return pool_.size(); }

  // Turns stage timing on or off and resets the sums. Off (the default), no clock is read.
  void time_stages(bool on);
  CpuStageTimes stage_times();

 protected:
  // plan_batch, its block searches on the pool (engine::PlanThreads), under run_mutex_.
  engine::BatchPlan plan(const engine::Collection& collection, const engine::BatchRequest& request) override;
  // Stages 2-5 of a plan of `request` into `out`, under run_mutex_.
  void run(const engine::Collection& collection, const engine::BatchRequest& request, const engine::BatchPlan& plan,
           void* out) override;
  std::shared_ptr<Tensor> fill_new_values(const engine::Collection& collection, const engine::BatchRequest& request,
                                          const engine::BatchPlan& plan) override;
  void smooth(Tensor& values, int64_t width) override;
  void flip(Tensor& values, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) override;
  std::shared_ptr<Tensor> place_sequences(std::shared_ptr<HostTensor> sequences) override { return sequences; }

 private:
  // run()'s body; the caller holds run_mutex_.
  void run_locked(const engine::Collection& collection, const engine::BatchRequest& request,
                  const engine::BatchPlan& plan, void* out);
  struct WorkerScratch {
    format::BlockScratch blocks;
    std::vector<uint32_t> block_numbers;  // the file's block numbers of the current task
    // The kept runs of the blocks this worker decoded, [0, arena_size), decoded in place.
    ScratchBuffer<stages::Run> arena;
    size_t arena_size = 0;
    std::vector<float> tile;     // [cell][track] of the tracks being filled, as the batch lays them out
                                 // (unused where transpose_store_float32 stores the columns straight into the batch)
    std::vector<float> columns;  // [track][cell] of the same, as their columns fill them
    std::vector<double> sums;
    std::vector<uint32_t> covered;
  };
  struct Column;  // a column as stages::fill_column_cells sees it
  // Where phase 1 left a planned block's runs (cache off: in a worker's arena), and their extent.
  // They are in the block's order, which the decode checked (stages::KeepNeededRuns): starts and
  // ends never decrease within a chromosome, so CachedRuns::window_stretch finds each window's
  // stretch in them exactly as the fill's own filter would, and each of the block's windows
  // reads only its stretch.
  struct RunSpan {
    uint32_t worker;
    uint32_t count;
    size_t offset;
    engine::RunsExtent extent;
  };
  // A planned block's runs as the fill reads them: in an arena, or in a cache entry in held_.
  struct BlockRuns {
    const stages::Run* runs;
    uint32_t count;
    bool ordered;               // the fill may search them (window_stretch): a cache entry's
                                // CachedRuns::ordered, always for arena runs (RunSpan)
    engine::RunsExtent extent;  // theirs, for the search's first guess
  };

  // Decodes the planned blocks misses_[first, last) (all of one file).
  void decode_planned_blocks(const engine::Collection& collection, const engine::BatchPlan& plan, size_t first,
                             size_t last, WorkerScratch& scratch, size_t worker);
  // Throws the error fill_column_cells would for column `column` over its whole window (runs of
  // two of its blocks out of order), storing nothing: a stretched window's fill sees only each
  // stretch's runs.
  void check_window_order(const engine::Collection& collection, const engine::BatchPlan& plan, size_t column) const;
  // Phase 2 for window w, tracks [k0, k1), cells [c0, c1) (all of them but in a long window's
  // stretch: stretch_query): each column fills its cells contiguously (a run is one
  // vectorized fill), and the columns are transposed into the batch's [cell][track] rows: float32
  // tracks in whole groups of four whose rows are 16-byte aligned straight from the columns, four
  // cells' rows at a time (transpose_store_float32: the batch, fresh memory larger than the
  // caches, is written once, row by row); any other layout through the worker's tile, in cache,
  // whose rows are then stored. (Strided stores of each column into the tile, and a scalar
  // transpose straight into the batch, each measured slower than the tile; the 4x4 SSE transpose
  // straight into the batch is faster than it: 1.15-1.25x at warm 16 tracks x 1 kb, batch 256.)
  // Tracks beyond one tile (kTileCells) take several rounds.
  void fill_tracks(const engine::Collection& collection, const engine::BatchRequest& request,
                   const engine::BatchPlan& plan, size_t w, size_t k0, size_t k1, uint32_t c0, uint32_t c1,
                   WorkerScratch& scratch, void* out);

  // Runs task(i, worker) for i in [0, n) on the pool, or on the calling thread alone when
  // `inline_`; with timing on, adds the phase's wall time, work and longest task to the sums.
  template <typename Task>
  void run_phase(size_t n, bool inline_, double& wall_ms, double& work_ms, double& longest_ms, Task&& task);

  std::mutex run_mutex_;
  bool timing_ = false;  // under run_mutex_, as are the sums
  CpuStageTimes times_;
  std::vector<double> worker_work_ms_, worker_longest_ms_;  // per worker, for the phase being timed
  ThreadPool pool_;
  std::vector<WorkerScratch> scratch_;
  std::vector<RunSpan> spans_;
  std::vector<engine::CachedBlock> held_;  // per planned block, cache on: its entry, kept alive until run() returns
  std::vector<uint32_t> misses_;           // planned blocks phase 1 decodes
  std::vector<BlockRuns> block_runs_;      // per planned block, after phase 1
};

}  // namespace bwl::cpu
