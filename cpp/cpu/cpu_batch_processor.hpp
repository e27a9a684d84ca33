#pragma once
// The CPU backend: stages 2-5 of a planned batch on a pool of host threads.
//
//   phase 1, per task of up to kBlocksPerTask planned blocks of one file: fetch (adjacent
//     blocks in one pread), inflate (libdeflate), decode, and keep the runs the batch needs
//     in the worker's arena. Each planned block is decoded exactly once.
//   phase 2, per task of one window x a slice of tracks: fill each output column from the
//     runs of its blocks, finalize windows, scale, convert, store. Output columns are disjoint,
//     so no two tasks write the same memory.
//
// Thread contract: run() may be called from several threads; calls on one processor take turns
// (the parallelism is inside a call). Scratch is per worker, allocated once and grown
// geometrically: nothing is allocated per block once warm.
#include <cstddef>
#include <mutex>
#include <vector>

#include "common/thread_pool.hpp"
#include "engine/batch_processor.hpp"
#include "format/block_reader.hpp"

namespace bwl::cpu {

class CpuBatchProcessor : public engine::BatchProcessor {
 public:
  // n_threads == 0: the CPUs this process may use.
  explicit CpuBatchProcessor(size_t n_threads);

  void run(const engine::Collection& collection, const engine::BatchRequest& request, const engine::BatchPlan& plan,
           void* out) override;

  size_t n_threads() const { return pool_.size(); }

 private:
  struct WorkerScratch {
    format::BlockScratch blocks;
    std::vector<uint32_t> block_numbers;  // the file's block numbers of the current task
    std::vector<stages::Run> arena;  // the kept runs of the blocks this worker decoded
    std::vector<float> cells;
    std::vector<double> sums;
    std::vector<uint32_t> covered;
  };
  // Where phase 1 left a planned block's runs.
  struct RunSpan {
    uint32_t worker;
    uint32_t count;
    size_t offset;
  };

  void decode_planned_blocks(const engine::Collection& collection, const engine::BatchPlan& plan, size_t first,
                             size_t last, WorkerScratch& scratch, size_t worker);
  void fill_column(const engine::BatchRequest& request, const engine::BatchPlan& plan, size_t column,
                   WorkerScratch& scratch, void* out);

  std::mutex run_mutex_;
  ThreadPool pool_;
  std::vector<WorkerScratch> scratch_;
  std::vector<RunSpan> spans_;
};

}  // namespace bwl::cpu
