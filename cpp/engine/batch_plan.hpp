#pragma once
// Stage 1 of the batch pipeline: which blocks a batch needs. For every output column (window w,
// track k) the plan lists the blocks with data in that window; the blocks of the whole batch are
// de-duplicated, so each one is fetched, inflated and decoded once however many windows use it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/collection.hpp"
#include "stages/window_fill.hpp"
#include "tensor/tensor.hpp"

namespace bwl::engine {

// Window starts lie in [-kMaxCoordinate, kMaxCoordinate] and lengths are at most 2^32, so that
// start + length and every offset the plan and the fill compute fit int64 (checked by
// check_request; bigwig_loader/_arguments.py refuses the same in Python, naming the argument).
constexpr int64_t kMaxCoordinate = int64_t{1} << 62;
constexpr uint64_t kMaxWindowLength = uint64_t{1} << 32;

// One batch, as every layer sees it: get_batch and the loader build it (the bindings' one
// constructor, which checks it once with check_and_mark_request), the processors run it. Windows
// may start below 0 or end past a chromosome: those bases read as the default value.
struct BatchRequest {
  std::vector<uint32_t> chroms;  // global chromosome ids, one per window
  std::vector<int64_t> starts;   // one per window
  int64_t length = 0;            // end - start, the same for every window
  uint32_t window_size = 1;
  float default_value = 0.0f;
  DType dtype = DType::Float32;
  std::vector<uint32_t> tracks;  // file index of each output track, in output order
  std::vector<float> scales;     // one factor per output track (1 when unscaled)

  // The rest of a training batch, made by the processor after the fill, in this order
  // (BigWigDataset's augmentations; get_batch leaves them unset):
  int64_t smoothing = 1;             // moving-average width along the length axis (1: none)
  std::vector<uint8_t> flip;         // empty, or one flag per window: reverse its length axis and
  std::vector<int64_t> flip_tracks;  // give its column k the values of column flip_tracks[k]
  // Sequences: empty, or (batch, sequence_length) bases (the forward strand) to one-hot encode
  // to sequence_dtype; a flipped window's one-hot is then reverse-complemented.
  std::vector<uint8_t> bases;
  int64_t sequence_length = 0;
  DType sequence_dtype = DType::Float32;

  bool has_augmentations() const { return smoothing > 1 || !flip.empty() || !bases.empty(); }

  // (batch, length / window_size, tracks): the output's shape. Needs window_size >= 1.
  std::vector<int64_t> output_shape() const {
    return {static_cast<int64_t>(starts.size()), length / window_size, static_cast<int64_t>(tracks.size())};
  }

  // Whether check_and_mark_request passed this request against `collection` (then plan_batch
  // does not check it again).
  bool checked_against(const Collection& collection) const { return checked_for_ == collection.id(); }

 private:
  friend void check_and_mark_request(const Collection& collection, BatchRequest& request);
  // Invariant: checked_for_ is 0 (not checked) or the Collection::id() of a collection this
  // request, as it is now, passed check_request against. Only check_and_mark_request sets it,
  // after the check passed; a copy keeps it (the copy is the same request). A request that is
  // changed after it was marked is no longer covered: the one marked request is the bindings'
  // _core.BatchRequest, built once, its fields read-only from Python, never changed in C++ (the
  // loader plans its copy as given). Requests built in C++ are unmarked and checked per plan.
  uint64_t checked_for_ = 0;
};

// Sets the request's windows from one chromosome id, start and end per window: the one place the
// windows are checked as a user gives them (same counts, at least one, start < end, one common
// length), each InvalidArgument naming the window. check_request then checks the rest.
void set_windows(BatchRequest& request, std::vector<uint32_t> chroms, std::vector<int64_t> starts,
                 const std::vector<int64_t>& ends);

// InvalidArgument for empty or mismatched windows, a bad window size, a track index out of range,
// a chromosome id out of range in `collection`, or augmentations that do not fit the batch.
// plan_batch relies on it: it checks every request that is not marked as checked against its
// collection.
void check_request(const Collection& collection, const BatchRequest& request);

// check_request, then marks `request` as checked against `collection`, so that planning it
// against that collection (once or many times: a loader's batch) does not check it again. For a
// request that is built once and not changed afterwards (the bindings' constructor).
void check_and_mark_request(const Collection& collection, BatchRequest& request);

// A block of one file that the batch needs, with the bounding range its windows need from it:
// decoded runs outside [need_lo, need_hi) of chromosome `chrom_id` can be dropped at once.
struct PlannedBlock {
  uint32_t file;
  uint32_t block;  // number in that file's BlockIndex
  uint32_t chrom_id;
  uint32_t need_lo;
  uint32_t need_hi;
  bool mixed_chroms;  // windows on several chromosomes need it (a block spanning chromosomes): keep every run
};

struct BatchPlan {
  size_t batch = 0;
  size_t n_tracks = 0;
  uint32_t cells = 0;                        // length / window_size
  std::vector<stages::ColumnQuery> columns;  // [w * n_tracks + k]
  std::vector<PlannedBlock> blocks;          // unique, sorted by (file, block number) = disk order
  // Blocks of column c: column_blocks[column_begin[c] .. column_begin[c + 1]), indices into `blocks`.
  std::vector<uint32_t> column_begin;
  std::vector<uint32_t> column_blocks;

  std::vector<int64_t> output_shape() const {
    return {static_cast<int64_t>(batch), static_cast<int64_t>(cells), static_cast<int64_t>(n_tracks)};
  }
};

// Threads plan_batch may search blocks on: for_each(n, task) calls task(i, worker) for every i
// in [0, n) on up to `threads` threads at once (ThreadPool::parallel_for, or a timed wrapper of
// it), and returns when all are done.
struct PlanThreads {
  size_t threads = 1;
  std::function<void(size_t, const std::function<void(size_t, size_t)>&)> for_each;
};

// Checks the request against the collection unless it is marked as checked against it
// (check_request: InvalidArgument for empty or mismatched windows, a bad window size, a track
// index out of range, a chromosome id out of range), checks that no
// file it reads changed since it was opened (FileChanged naming the file: the first changed one
// in track order), and plans it. With threads, the file checks (an fstat each: most of a plan of
// few windows over many files) and the column searches (each window's blocks in the index: most
// of a large plan) run as threads->for_each tasks, each a share of the files and a share of
// consecutive columns: one task for fewer than kParallelPlanColumns columns and
// kParallelCheckFiles files, a few a thread above; where those are several tasks and the keys of
// several files are sorted (the files hold many blocks against them), each file's keys are then
// sorted and numbered on a task of its own. The plan is the same either way.
BatchPlan plan_batch(const Collection& collection, const BatchRequest& request, const PlanThreads* threads = nullptr);
// Smaller batches plan on one task: waking the workers costs more than their searches.
constexpr size_t kParallelPlanColumns = 2048;
// Or this many files (~0.4 us a check: one fstat, the descriptor pool's lock twice).
constexpr size_t kParallelCheckFiles = 64;
// Tasks per thread: a few, so that a slow run of windows (windows on many blocks) is shared.
constexpr size_t kPlanTasksPerThread = 4;

// A column's fill found a run of planned block `later` starting before the end of the run that
// planned block `earlier` kept (stages::RunOrder): throws FormatError naming the file and both
// blocks' byte offsets. Every backend reports it so.
[[noreturn]] void throw_overlapping_blocks(const Collection& collection, const BatchPlan& plan, uint32_t earlier,
                                           uint32_t later);

}  // namespace bwl::engine
