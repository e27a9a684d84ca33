#include "engine/batch_plan.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>

#include "common/errors.hpp"
#include "format/block_reader.hpp"

namespace bwl::engine {

void set_windows(BatchRequest& request, std::vector<uint32_t> chroms, std::vector<int64_t> starts,
                 const std::vector<int64_t>& ends) {
  if (chroms.size() != starts.size() || starts.size() != ends.size()) {
    throw InvalidArgument("chromosomes, starts and ends differ in length (" + std::to_string(chroms.size()) + ", " +
                          std::to_string(starts.size()) + ", " + std::to_string(ends.size()) + ")");
  }
  if (starts.empty()) throw InvalidArgument("a batch needs at least one window");
  for (size_t w = 0; w < starts.size(); ++w) {
    for (const int64_t at : {starts[w], ends[w]}) {
      if (at < -kMaxCoordinate || at > kMaxCoordinate) {
        throw InvalidArgument("window " + std::to_string(w) + " (" + std::to_string(starts[w]) + ", " +
                              std::to_string(ends[w]) +
                              ") lies outside the coordinates the engine takes [-2^62, 2^62]");
      }
    }
    if (starts[w] >= ends[w]) {
      throw InvalidArgument("window " + std::to_string(w) + " has start " + std::to_string(starts[w]) + " >= end " +
                            std::to_string(ends[w]));
    }
  }
  // Both ends lie within +-2^62 (checked above), so every difference fits in uint64_t (not in
  // int64_t: 2^62 - -2^62 = 2^63); a window longer than the engine's 2^32 bases is refused here,
  // before the length is stored as int64_t.
  auto length_of = [&](size_t w) { return static_cast<uint64_t>(ends[w]) - static_cast<uint64_t>(starts[w]); };
  const uint64_t length = length_of(0);
  if (length > kMaxWindowLength) {
    throw InvalidArgument("window 0 is " + std::to_string(length) +
                          " bases long; windows longer than 2^32 bases are "
                          "not supported");
  }
  for (size_t w = 1; w < starts.size(); ++w) {
    if (length_of(w) != length) {
      throw InvalidArgument("windows must all have the same length: window 0 has " + std::to_string(length) +
                            ", window " + std::to_string(w) + " has " + std::to_string(length_of(w)));
    }
  }
  request.chroms = std::move(chroms);
  request.starts = std::move(starts);
  request.length = static_cast<int64_t>(length);
}

void check_request(const Collection& collection, const BatchRequest& r) {
  if (r.chroms.size() != r.starts.size()) {
    throw InvalidArgument("chromosomes and starts differ in length (" + std::to_string(r.chroms.size()) + " vs " +
                          std::to_string(r.starts.size()) + ")");
  }
  if (r.length <= 0) throw InvalidArgument("windows must have start < end");
  if (r.window_size == 0) throw InvalidArgument("window_size must be at least 1");
  if (r.window_size > r.length) {
    throw InvalidArgument("window_size " + std::to_string(r.window_size) + " is larger than the window length " +
                          std::to_string(r.length));
  }
  if (r.length > static_cast<int64_t>(kMaxWindowLength)) {
    throw InvalidArgument("windows longer than 2^32 bases are not supported");
  }
  for (size_t w = 0; w < r.starts.size(); ++w) {
    if (r.starts[w] < -kMaxCoordinate || r.starts[w] > kMaxCoordinate) {
      throw InvalidArgument("window " + std::to_string(w) + " starts at " + std::to_string(r.starts[w]) +
                            ", outside the coordinates the engine takes [-2^62, 2^62]");
    }
  }
  if (r.scales.size() != r.tracks.size()) throw InvalidArgument("one scale factor per track is needed");
  for (uint32_t t : r.tracks) {
    if (t >= collection.n_files()) {
      throw InvalidArgument("track index " + std::to_string(t) + " is out of range for a collection of " +
                            std::to_string(collection.n_files()) + " files");
    }
  }
  for (uint32_t c : r.chroms) {
    if (c >= collection.chrom_names().size())
      throw InvalidArgument("chromosome id " + std::to_string(c) + " is out of range");
  }
  if (r.smoothing < 1) throw InvalidArgument("the smoothing (moving average) width must be at least 1");
  if (!r.flip.empty()) {
    if (r.flip.size() != r.starts.size()) throw InvalidArgument("flip needs one flag per window");
    if (r.flip_tracks.size() != r.tracks.size()) throw InvalidArgument("flip_tracks needs one entry per track");
    std::vector<bool> seen(r.tracks.size(), false);
    for (int64_t k : r.flip_tracks) {
      if (k < 0 || static_cast<size_t>(k) >= r.tracks.size() || seen[static_cast<size_t>(k)]) {
        throw InvalidArgument("flip_tracks is not a permutation of the track columns");
      }
      seen[static_cast<size_t>(k)] = true;
    }
  }
  if (!r.bases.empty() || r.sequence_length != 0) {
    if (r.sequence_length < 1 || r.bases.size() != r.starts.size() * static_cast<uint64_t>(r.sequence_length)) {
      throw InvalidArgument("bases must be (batch, sequence_length) with sequence_length >= 1");
    }
  }
}

void check_and_mark_request(const Collection& collection, BatchRequest& request) {
  check_request(collection, request);
  request.checked_for_ = collection.id();
}

namespace {

PlannedBlock planned(uint64_t key) {
  return PlannedBlock{
      static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key & 0xFFFFFFFFu), 0, UINT32_MAX, 0, false};
}

// Counts column query q as a reader of planned block pb: pb's chromosome is its first reader's
// (in column order; mixed_chroms where another reader's differs), its need range the union of its
// readers' [lo, hi) (need_lo is UINT32_MAX until the first, as planned() leaves it).
void add_reader(PlannedBlock& pb, const stages::ColumnQuery& q) {
  if (pb.need_lo == UINT32_MAX) {
    pb.chrom_id = q.chrom_id;
  } else if (pb.chrom_id != q.chrom_id) {
    pb.mixed_chroms = true;
  }
  pb.need_lo = std::min(pb.need_lo, q.lo);
  pb.need_hi = std::max(pb.need_hi, q.hi);
}

// Numbers the distinct (file << 32 | block) keys in (file, block) order into plan.blocks, and
// tells each column entry its block (plan.column_blocks[i] for keys[i]). Where the batch's files
// hold few blocks against its keys (a large batch over few files), one pass over a table of
// every block of those files; else the keys sorted with where each came from. (A sort of 100,000
// keys was 6.8 ms, a seventh of a warm call of one track x 100,000 windows; a binary search per
// entry instead had been 15-28% slower at warm 16 tracks x 1 kb, batch 256.)
void number_planned_blocks(const Collection& collection, const std::vector<uint32_t>& files, size_t table,
                           const std::vector<uint64_t>& keys, BatchPlan& plan) {
  if (table <= 4 * keys.size()) {
    std::vector<size_t> base(collection.n_files(), 0);  // where file f's blocks start in `slot`
    size_t at = 0;
    for (uint32_t f : files) {
      base[f] = at;
      at += collection.file(f).block_index().blocks().size();
    }
    constexpr uint32_t kUnused = UINT32_MAX;
    std::vector<uint32_t> slot(table, kUnused);
    auto slot_of = [&](uint64_t key) -> uint32_t& { return slot[base[key >> 32] + (key & 0xFFFFFFFFu)]; };
    for (uint64_t key : keys) slot_of(key) = 0;  // used
    for (uint32_t f : files) {                   // files ascending, then blocks ascending: (file, block) order
      const size_t n = collection.file(f).block_index().blocks().size();
      for (size_t b = 0; b < n; ++b) {
        uint32_t& s = slot[base[f] + b];
        if (s == kUnused) continue;
        s = static_cast<uint32_t>(plan.blocks.size());
        plan.blocks.push_back(planned((uint64_t{f} << 32) | b));
      }
    }
    for (size_t i = 0; i < keys.size(); ++i) plan.column_blocks[i] = slot_of(keys[i]);
    return;
  }
  std::vector<std::pair<uint64_t, uint32_t>> sorted(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) sorted[i] = {keys[i], static_cast<uint32_t>(i)};
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const uint64_t key = sorted[i].first;
    if (i == 0 || key != sorted[i - 1].first) plan.blocks.push_back(planned(key));
    plan.column_blocks[sorted[i].second] = static_cast<uint32_t>(plan.blocks.size() - 1);
  }
}

// Where the keys are sorted (number_planned_blocks) and a pool is at hand: the keys bucketed by
// file (a counting sort, files ascending), then on the pool each file's bucket sorted by (block,
// key index), its distinct blocks counted, and, once the counts are offsets, numbered, each
// planned block given its readers (add_reader) in the order of their keys: the plan the serial
// sort and need pass make, with the sort, the numbering and the need pass shared among the
// threads (a serial sort of the keys was about half the serial time of a warm batch of 256
// windows over 16 tracks).
void number_planned_blocks_by_file(const Collection& collection, const std::vector<uint32_t>& files,
                                   const std::vector<uint64_t>& keys, BatchPlan& plan, const PlanThreads& threads) {
  std::vector<uint32_t> key_columns(keys.size());  // the column each key came from
  for (size_t column = 0; column + 1 < plan.column_begin.size(); ++column) {
    std::fill(key_columns.begin() + plan.column_begin[column], key_columns.begin() + plan.column_begin[column + 1],
              static_cast<uint32_t>(column));
  }
  std::vector<uint32_t> rank(collection.n_files(), 0);
  for (size_t i = 0; i < files.size(); ++i) rank[files[i]] = static_cast<uint32_t>(i);
  std::vector<size_t> begin(files.size() + 1, 0);
  for (uint64_t key : keys) ++begin[rank[key >> 32] + 1];
  for (size_t i = 0; i < files.size(); ++i) begin[i + 1] += begin[i];
  // (block << 32 | key index): sorted, a file's blocks ascend, each block's keys in key order.
  std::vector<uint64_t> bucketed(keys.size());
  {
    std::vector<size_t> cursor(begin.begin(), begin.end() - 1);
    for (size_t i = 0; i < keys.size(); ++i) {
      bucketed[cursor[rank[keys[i] >> 32]]++] = (keys[i] << 32) | static_cast<uint32_t>(i);
    }
  }
  auto block_of = [&](size_t i) { return static_cast<uint32_t>(bucketed[i] >> 32); };
  // Whether bucketed[i] is the first key of its block (the bucket of file f begins at begin[f]).
  auto opens_block = [&](size_t f, size_t i) { return i == begin[f] || block_of(i) != block_of(i - 1); };
  std::vector<size_t> first_block(files.size() + 1, 0);  // each file's first planned block, once summed
  threads.for_each(files.size(), [&](size_t f, size_t) {
    std::sort(bucketed.begin() + static_cast<std::ptrdiff_t>(begin[f]),
              bucketed.begin() + static_cast<std::ptrdiff_t>(begin[f + 1]));
    size_t n = 0;
    for (size_t i = begin[f]; i < begin[f + 1]; ++i) n += opens_block(f, i);
    first_block[f + 1] = n;
  });
  for (size_t f = 0; f < files.size(); ++f) first_block[f + 1] += first_block[f];
  plan.blocks.resize(first_block[files.size()]);
  threads.for_each(files.size(), [&](size_t f, size_t) {
    size_t number = first_block[f];
    for (size_t i = begin[f]; i < begin[f + 1]; ++i) {
      const uint32_t index = static_cast<uint32_t>(bucketed[i]);
      if (opens_block(f, i)) {
        if (i > begin[f]) ++number;
        plan.blocks[number] = planned((uint64_t{files[f]} << 32) | block_of(i));
      }
      add_reader(plan.blocks[number], plan.columns[key_columns[index]]);
      plan.column_blocks[index] = static_cast<uint32_t>(number);
    }
  });
}

// Each planned block's readers (add_reader), column by column.
void set_block_needs(BatchPlan& plan) {
  for (size_t column = 0; column < plan.columns.size(); ++column) {
    for (uint32_t i = plan.column_begin[column]; i < plan.column_begin[column + 1]; ++i) {
      add_reader(plan.blocks[plan.column_blocks[i]], plan.columns[column]);
    }
  }
}

// plan.blocks, plan.column_blocks and each block's needs from the batch's keys (in column order),
// on `threads` where the search ran as several tasks on them (`threads` null otherwise).
void plan_blocks(const Collection& collection, const BatchRequest& r, const std::vector<uint64_t>& keys,
                 BatchPlan& plan, const PlanThreads* threads) {
  plan.column_blocks.resize(keys.size());
  std::vector<uint32_t> files(r.tracks.begin(), r.tracks.end());
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  size_t table = 0;
  for (uint32_t f : files) table += collection.file(f).block_index().blocks().size();
  if (threads != nullptr && !keys.empty() && table > 4 * keys.size() && files.size() > 1) {
    number_planned_blocks_by_file(collection, files, keys, plan, *threads);
    return;
  }
  number_planned_blocks(collection, files, table, keys, plan);
  set_block_needs(plan);
}

}  // namespace

BatchPlan plan_batch(const Collection& collection, const BatchRequest& r, const PlanThreads* threads) {
  if (!r.checked_against(collection)) check_request(collection, r);
  BatchPlan plan;
  plan.batch = r.starts.size();
  plan.n_tracks = r.tracks.size();
  plan.cells = static_cast<uint32_t>(r.length / r.window_size);
  const int64_t covered_length = int64_t{plan.cells} * r.window_size;  // the partial last cell is dropped

  const size_t n_columns = plan.batch * plan.n_tracks;
  // One check a track (a file read by two tracks is checked twice: its two file objects).
  const size_t n_checks = plan.n_tracks;
  plan.columns.resize(n_columns);
  plan.column_begin.assign(n_columns + 1, 0);
  // Each task checks its share of the files, then searches its share of the columns
  // (consecutive ones: windows in order, tracks in order within a window). The checks: every
  // file the batch reads is still the one opened, so its index and its cached blocks (served
  // without touching the file) describe it; checked for every batch, cached or not; a change
  // during this batch is caught by the next. The searches: each column's query and blocks, as
  // (file, block) keys, a task's keys its own; column_begin[c + 1] first holds column c's count,
  // made offsets once every task is done. Then the keys are de-duplicated and indexed
  // (plan_blocks: in one pass, or where they are sorted over several files, file by file on the
  // threads).
  // (max: a batch of no windows still checks its files.)
  const size_t n_tasks = threads != nullptr && threads->threads > 1 &&
                                 (n_columns >= kParallelPlanColumns || n_checks >= kParallelCheckFiles)
                             ? std::min(std::max(n_columns, n_checks), threads->threads * kPlanTasksPerThread)
                             : 1;
  std::vector<std::vector<uint64_t>> task_keys(n_tasks);
  auto search_share = [&](size_t task) {
    std::vector<uint64_t>& keys = task_keys[task];
    std::vector<uint32_t> found;
    const size_t c_begin = n_columns * task / n_tasks, c_end = n_columns * (task + 1) / n_tasks;
    size_t w = plan.n_tracks == 0 ? 0 : c_begin / plan.n_tracks;
    size_t k = plan.n_tracks == 0 ? 0 : c_begin % plan.n_tracks;
    for (size_t column = c_begin; column < c_end; ++column) {
      const int64_t start = r.starts[w];
      const int64_t end = start + covered_length;
      const uint32_t f = r.tracks[k];
      stages::ColumnQuery& q = plan.columns[column];
      q.window_start = start;
      q.chrom_id = 0;
      q.lo = q.hi = 0;
      const size_t before = keys.size();
      const int32_t local = collection.local_chrom(f, r.chroms[w]);
      if (local != kAbsent) {
        const format::ChromInfo& chrom = collection.file(f).chroms()[static_cast<size_t>(local)];
        const int64_t lo = std::max<int64_t>(start, 0);
        const int64_t hi = std::min<int64_t>(end, chrom.size);
        if (lo < hi) {
          q.chrom_id = chrom.id;
          q.lo = static_cast<uint32_t>(lo);
          q.hi = static_cast<uint32_t>(hi);
          found.clear();
          collection.file(f).block_index().find_overlapping(static_cast<size_t>(local), q.lo, q.hi, found);
          for (uint32_t b : found) keys.push_back((uint64_t{f} << 32) | b);
        }
      }
      plan.column_begin[column + 1] = static_cast<uint32_t>(keys.size() - before);
      if (++k == plan.n_tracks) {
        k = 0;
        ++w;
      }
    }
  };
  // A task's first error, kept so that the one raised is the serial loop's whatever order the
  // tasks run in: the first changed file in track order (tasks hold ascending shares of the
  // tracks and check before they search).
  std::vector<std::exception_ptr> task_error(n_tasks);
  auto plan_share = [&](size_t task, size_t) {
    try {
      for (size_t i = n_checks * task / n_tasks, i_end = n_checks * (task + 1) / n_tasks; i < i_end; ++i) {
        collection.file(r.tracks[i]).file().check_unchanged();
      }
      search_share(task);
    } catch (...) {
      task_error[task] = std::current_exception();
    }
  };
  if (threads != nullptr) {
    threads->for_each(n_tasks, plan_share);
  } else {
    plan_share(0, 0);
  }
  for (const std::exception_ptr& error : task_error) {
    if (error) std::rethrow_exception(error);
  }
  for (size_t column = 0; column < n_columns; ++column) plan.column_begin[column + 1] += plan.column_begin[column];
  std::vector<uint64_t> keys = std::move(task_keys[0]);
  if (n_tasks > 1) {
    keys.reserve(plan.column_begin[n_columns]);
    for (size_t t = 1; t < n_tasks; ++t) keys.insert(keys.end(), task_keys[t].begin(), task_keys[t].end());
  }
  plan_blocks(collection, r, keys, plan, n_tasks > 1 ? threads : nullptr);
  return plan;
}

void throw_overlapping_blocks(const Collection& collection, const BatchPlan& plan, uint32_t earlier, uint32_t later) {
  const format::BigWigFile& file = collection.file(plan.blocks[later].file);
  const std::vector<format::DataBlock>& blocks = file.block_index().blocks();
  throw format::overlapping_blocks_error(file.path(), blocks[plan.blocks[earlier].block].offset,
                                         blocks[plan.blocks[later].block].offset);
}

}  // namespace bwl::engine
