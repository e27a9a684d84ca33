#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "bbi_builder.hpp"
#include "common/errors.hpp"
#include "common/thread_pool.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/chrom_order.hpp"
#include "engine/collection.hpp"
#include "fasta/one_hot.hpp"
#include "stages/window_fill.hpp"
#include "tensor/tensor.hpp"
#include "tensor/transforms.hpp"

using namespace bwl::test;

TEST(ChromOrder, StandardChromosomesFirstThenNaturalOrder) {
  std::vector<std::string> names = {"chrUn_1", "chr10", "chrM",      "chr2",     "chrY",
                                    "chr1",    "chrX",  "contig_10", "contig_9", "chr01"};
  std::sort(names.begin(), names.end(), bwl::engine::chrom_before);
  const std::vector<std::string> expected = {"chr1", "chr2",  "chr10",   "chrX",     "chrY",
                                             "chrM", "chr01", "chrUn_1", "contig_9", "contig_10"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(bwl::engine::standard_chrom_rank("chr22"), 21);
  EXPECT_EQ(bwl::engine::standard_chrom_rank("chr23"), -1);
  EXPECT_EQ(bwl::engine::standard_chrom_rank("chr01"), -1);
}

TEST(ThreadPool, RunsEveryIndexOnceOnDistinctWorkers) {
  bwl::ThreadPool pool(3);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(1000);
    std::atomic<size_t> max_worker{0};
    pool.parallel_for(hits.size(), [&](size_t i, size_t worker) {
      hits[i]++;
      size_t seen = max_worker.load();
      while (worker > seen && !max_worker.compare_exchange_weak(seen, worker)) {
      }
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    ASSERT_LT(max_worker.load(), pool.size());
  }
}

TEST(ThreadPool, RethrowsTheFirstExceptionAfterAllTasksStop) {
  bwl::ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100,
                                 [](size_t i, size_t) {
                                   if (i == 37) throw std::runtime_error("task 37");
                                 }),
               std::runtime_error);
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](size_t, size_t) { n++; });
  EXPECT_EQ(n.load(), 10);  // usable again after an error
}

// Workers watch for the next parallel_for for a while before they sleep: one-task calls (run
// by the caller alone) between many-task ones, tiny tasks, and pools destroyed right after a call
// (workers still watching) lose no task and hang nowhere (and, under TSan, race nowhere).
TEST(ThreadPool, WatchingWorkersMissNoCallAndStopCleanly) {
  for (int pools = 0; pools < 20; ++pools) {
    bwl::ThreadPool pool(3);
    std::atomic<size_t> done{0};
    size_t expected = 0;
    for (int round = 0; round < 200; ++round) {
      const size_t n = round % 3 == 0 ? 1 : static_cast<size_t>(round % 7 + 2);
      pool.parallel_for(n, [&](size_t, size_t) { done.fetch_add(1, std::memory_order_relaxed); });
      expected += n;
      ASSERT_EQ(done.load(), expected);
    }
  }
}

TEST(WindowFill, SingleBaseCellsAreScaledAndClipped) {
  const std::vector<bwl::stages::Run> runs = {{0, 5, 12, 1.0f}, {1, 0, 100, 9.0f}, {0, 14, 30, 2.0f}};
  bwl::stages::ColumnQuery q{8, 0, 8, 16};  // window [8, 18), data only in [8, 16)
  std::vector<float> cells(10, -1.0f);
  bwl::stages::RunOrder order;
  bwl::stages::fill_single_base_cells(runs.data(), 3, q, 2.0f, order, cells.data());
  EXPECT_EQ(cells, (std::vector<float>{2, 2, 2, 2, -1, -1, 4, 4, -1, -1}));
  EXPECT_FALSE(order.overlap) << "the run of another chromosome is not compared";
  EXPECT_EQ(order.kept_runs, 2u);
}

TEST(WindowFill, RunOrderFlagsARunStartingBeforeTheKeptRunEnds) {
  // Two blocks' runs walked in turn: [0, 10) then [5, 15) overlap; a run outside the window or
  // of another chromosome is not compared; a run starting exactly at the kept end is in order.
  const std::vector<bwl::stages::Run> first = {{0, 0, 10, 1.0f}};
  const std::vector<bwl::stages::Run> touching = {{1, 2, 4, 7.0f}, {0, 10, 12, 3.0f}};
  const std::vector<bwl::stages::Run> overlapping = {{0, 5, 15, 2.0f}};
  bwl::stages::ColumnQuery q{0, 0, 0, 20};
  std::vector<double> sums(2, 0.0);
  std::vector<uint32_t> covered(2, 0);
  bwl::stages::RunOrder order;
  bwl::stages::accumulate_window_cells(first.data(), 1, q, 10, order, sums.data(), covered.data());
  bwl::stages::accumulate_window_cells(touching.data(), 2, q, 10, order, sums.data(), covered.data());
  EXPECT_FALSE(order.overlap);
  bwl::stages::accumulate_window_cells(overlapping.data(), 1, q, 10, order, sums.data(), covered.data());
  EXPECT_TRUE(order.overlap);

  bwl::stages::RunOrder clipped;  // the window [12, 20) keeps only [5, 15): nothing to compare
  std::vector<float> cells(8, 0.0f);
  const bwl::stages::ColumnQuery late{12, 0, 12, 20};
  bwl::stages::fill_single_base_cells(first.data(), 1, late, 1.0f, clipped, cells.data());
  bwl::stages::fill_single_base_cells(overlapping.data(), 1, late, 1.0f, clipped, cells.data());
  EXPECT_FALSE(clipped.overlap);
}

TEST(WindowFill, AveragesFollowTheReferenceArithmetic) {
  // window_size 4 over [0, 8): run [1, 6) = 2.0 covers 3 bases of cell 0 and 2 of cell 1.
  const std::vector<bwl::stages::Run> runs = {{0, 1, 6, 2.0f}};
  bwl::stages::ColumnQuery q{0, 0, 0, 8};
  std::vector<double> sums(2, 0.0);
  std::vector<uint32_t> covered(2, 0);
  bwl::stages::RunOrder order;
  bwl::stages::accumulate_window_cells(runs.data(), 1, q, 4, order, sums.data(), covered.data());
  EXPECT_EQ(covered, (std::vector<uint32_t>{3, 2}));
  EXPECT_FLOAT_EQ(bwl::stages::finalize_window_cell(sums[0], covered[0], 4, 1.0f, 0.0f), 1.5f);
  EXPECT_FLOAT_EQ(bwl::stages::finalize_window_cell(sums[1], covered[1], 4, 1.0f, 10.0f), (4.0f + 20.0f) / 4);
  EXPECT_FLOAT_EQ(bwl::stages::finalize_window_cell(sums[1], covered[1], 4, 3.0f, NAN), 6.0f);
  EXPECT_TRUE(std::isnan(bwl::stages::finalize_window_cell(0.0, 0, 4, 1.0f, NAN)));
  EXPECT_FLOAT_EQ(bwl::stages::finalize_window_cell(0.0, 0, 4, 3.0f, 5.0f), 5.0f) << "the default is never scaled";
}

// A cell's contributions are summed in registers and handed on once, even where they come from
// two blocks (the pending cell carried from one accumulate_window to the next), in the order
// adding each into memory would sum them, bit for bit: 1e17 + 5 + 5 + 7 is 1e17 added one by
// one, but 1e17 + 16 were the second block's 5 + 7 summed apart and added.
TEST(WindowFill, ACellsContributionsAreSummedOnceInOrderAcrossBlocks) {
  const std::vector<bwl::stages::Run> block_a = {{0, 0, 1, 1e17f}, {0, 1, 2, 5.0f}};
  const std::vector<bwl::stages::Run> block_b = {{0, 2, 3, 5.0f}, {0, 3, 4, 7.0f}, {0, 5, 9, 1.0f}};
  const bwl::stages::ColumnQuery q{0, 0, 0, 12};
  std::vector<double> one_by_one(3, 0.0);  // each base added into memory, in order (as each piece: exact)
  for (const auto* block : {&block_a, &block_b}) {
    for (const bwl::stages::Run& run : *block) {
      for (uint32_t base = run.start; base < run.end; ++base) one_by_one[base / 4] += static_cast<double>(run.value);
    }
  }
  ASSERT_EQ(one_by_one[0], static_cast<double>(1e17f));
  std::vector<std::tuple<int64_t, double, uint32_t>> added;
  auto add = [&added](int64_t cell, double sum, uint32_t bases) { added.emplace_back(cell, sum, bases); };
  bwl::stages::RunOrder order;
  bwl::stages::CellSum pending;
  bwl::stages::accumulate_window(block_a.data(), 2, q, 4, order, pending, add);
  bwl::stages::accumulate_window(block_b.data(), 3, q, 4, order, pending, add);
  pending.flush(add);
  EXPECT_FALSE(order.overlap);
  ASSERT_EQ(added.size(), 3u) << "each cell handed on once";
  EXPECT_EQ(added[0], std::make_tuple(int64_t{0}, one_by_one[0], 4u));
  EXPECT_EQ(added[1], std::make_tuple(int64_t{1}, one_by_one[1], 3u));
  EXPECT_EQ(added[2], std::make_tuple(int64_t{2}, one_by_one[2], 1u));
}

TEST(WindowFill, NegativeWindowStartsUse64BitCoordinates) {
  const std::vector<bwl::stages::Run> runs = {{0, 0, 3, 1.0f}};
  bwl::stages::ColumnQuery q{-2, 0, 0, 2};  // window [-2, 2) of 2-base cells: data only in [0, 2)
  std::vector<double> sums(2, 0.0);
  std::vector<uint32_t> covered(2, 0);
  bwl::stages::RunOrder order;
  bwl::stages::accumulate_window_cells(runs.data(), 1, q, 2, order, sums.data(), covered.data());
  EXPECT_EQ(covered, (std::vector<uint32_t>{0, 2}));
}

TEST(WindowFill, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(bwl::stages::to_bfloat16(1.0f), 0x3F80);
  // 1 + 2^-8 lies halfway between two bfloat16 values: ties go to the even one (1.0).
  EXPECT_EQ(bwl::stages::to_bfloat16(1.0f + 1.0f / 256), 0x3F80);
  // 1 + 3 * 2^-8 is halfway too: rounds up to the even 1 + 2^-6.
  EXPECT_EQ(bwl::stages::to_bfloat16(1.0f + 3.0f / 256), 0x3F82);
  EXPECT_EQ(bwl::stages::to_bfloat16(-2.0f), 0xC000);
  EXPECT_EQ(bwl::stages::to_bfloat16(INFINITY), 0x7F80);
  const uint16_t nan = bwl::stages::to_bfloat16(NAN);
  EXPECT_EQ(nan & 0x7F80, 0x7F80);
  EXPECT_NE(nan & 0x007F, 0);
}

namespace {

// chrA 1000 bp: bedGraph [0,100)=1 in block 0, [100,200)=2 in block 1; chrB 500 bp in block 2.
FileSpec two_block_spec() {
  FileSpec s;
  s.chroms = {{"chrA", 1000}, {"chrB", 500}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 100, 1.0f}}), 0, 0, 0, 100});
  s.blocks.push_back(Block{bedgraph_section(0, {{100, 200, 2.0f}}), 0, 100, 0, 200});
  s.blocks.push_back(Block{fixedstep_section(1, 0, 10, 10, {3.0f, 4.0f}), 1, 0, 1, 20});
  return s;
}

}  // namespace

TEST(BatchPlan, EachBlockIsPlannedOnceHoweverManyWindowsNeedIt) {
  TempFile tmp(build_bigwig(two_block_spec()));
  bwl::engine::Collection collection({tmp.path(), tmp.path()}, 1);
  bwl::engine::BatchRequest r;
  const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
  r.chroms = {chrA, chrA, chrA};
  r.starts = {50, 90, 10};
  r.length = 60;
  r.tracks = {0, 1};
  r.scales = {1.0f, 1.0f};
  const bwl::engine::BatchPlan plan = bwl::engine::plan_batch(collection, r);
  // Windows need blocks {0,1}, {0,1}, {0}: per file 2 unique blocks, 2 files.
  ASSERT_EQ(plan.blocks.size(), 4u);
  EXPECT_EQ(plan.column_begin.back(), 10u);  // 5 block uses per track
  EXPECT_EQ(plan.blocks[0].file, 0u);
  EXPECT_EQ(plan.blocks[2].file, 1u);
  EXPECT_EQ(plan.blocks[0].need_lo, 10u);
  EXPECT_EQ(plan.blocks[0].need_hi, 150u);
}

// plan_batch numbers the planned blocks one of two ways (a table of every block of the batch's
// files when they hold few blocks against the batch's block uses, else a sort): both give every
// distinct (file, block) once, in (file, block) order, and each column entry its own block.
TEST(BatchPlan, FewWindowsAndManyWindowsPlanTheBlocksEachColumnOverlaps) {
  FileSpec spec;
  spec.chroms = {{"chrA", 1000}};
  for (uint32_t i = 0; i < 64; ++i) {
    spec.blocks.push_back(
        Block{bedgraph_section(0, {{i * 10, i * 10 + 10, static_cast<float>(i)}}), 0, i * 10, 0, i * 10 + 10});
  }
  TempFile tmp(build_bigwig(spec));
  bwl::engine::Collection collection({tmp.path(), tmp.path(), tmp.path()}, 1);
  const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
  for (const size_t windows : {size_t{2}, size_t{400}}) {  // 2: the sort; 400: the table
    bwl::engine::BatchRequest r;
    r.length = 25;
    for (size_t w = 0; w < windows; ++w) {
      r.chroms.push_back(chrA);
      r.starts.push_back(static_cast<int64_t>((w * 37) % 990) - 5);
    }
    r.tracks = {2, 0};  // not in file order, one file left out
    r.scales = {1.0f, 1.0f};
    const bwl::engine::BatchPlan plan = bwl::engine::plan_batch(collection, r);
    std::vector<std::pair<uint32_t, uint32_t>> want_blocks;
    for (size_t w = 0; w < windows; ++w) {
      for (size_t k = 0; k < r.tracks.size(); ++k) {
        const size_t column = w * r.tracks.size() + k;
        std::vector<uint32_t> found;
        const auto lo = static_cast<uint32_t>(std::max<int64_t>(r.starts[w], 0));
        const auto hi = static_cast<uint32_t>(std::min<int64_t>(r.starts[w] + r.length, 1000));
        collection.file(r.tracks[k]).block_index().find_overlapping(0, lo, hi, found);
        ASSERT_EQ(plan.column_begin[column + 1] - plan.column_begin[column], found.size());
        for (size_t j = 0; j < found.size(); ++j) {
          const bwl::engine::PlannedBlock& pb = plan.blocks[plan.column_blocks[plan.column_begin[column] + j]];
          EXPECT_EQ(pb.file, r.tracks[k]);
          EXPECT_EQ(pb.block, found[j]);
          want_blocks.emplace_back(r.tracks[k], found[j]);
        }
      }
    }
    std::sort(want_blocks.begin(), want_blocks.end());
    want_blocks.erase(std::unique(want_blocks.begin(), want_blocks.end()), want_blocks.end());
    ASSERT_EQ(plan.blocks.size(), want_blocks.size()) << windows << " windows";
    for (size_t b = 0; b < want_blocks.size(); ++b) {
      EXPECT_EQ(std::make_pair(plan.blocks[b].file, plan.blocks[b].block), want_blocks[b]);
    }
  }
}

// A large batch searches its blocks in tasks of consecutive windows on the threads it is given
// (engine::PlanThreads): the plan is the one a single thread makes, field by field.
void expect_same_plan(const bwl::engine::BatchPlan& many, const bwl::engine::BatchPlan& one) {
  ASSERT_EQ(many.columns.size(), one.columns.size());
  for (size_t c = 0; c < one.columns.size(); ++c) {
    EXPECT_EQ(many.columns[c].window_start, one.columns[c].window_start) << c;
    EXPECT_EQ(many.columns[c].chrom_id, one.columns[c].chrom_id) << c;
    EXPECT_EQ(many.columns[c].lo, one.columns[c].lo) << c;
    EXPECT_EQ(many.columns[c].hi, one.columns[c].hi) << c;
  }
  EXPECT_EQ(many.column_begin, one.column_begin);
  EXPECT_EQ(many.column_blocks, one.column_blocks);
  ASSERT_EQ(many.blocks.size(), one.blocks.size());
  for (size_t b = 0; b < one.blocks.size(); ++b) {
    const bwl::engine::PlannedBlock &x = many.blocks[b], &y = one.blocks[b];
    EXPECT_EQ(std::make_tuple(x.file, x.block, x.chrom_id, x.need_lo, x.need_hi, x.mixed_chroms),
              std::make_tuple(y.file, y.block, y.chrom_id, y.need_lo, y.need_hi, y.mixed_chroms))
        << b;
  }
}

// A file of chrA (n_blocks x 10 bases, a block of one item each ten) and chrB (500 bases).
FileSpec ten_base_blocks(uint32_t n_blocks) {
  FileSpec spec;
  spec.chroms = {{"chrA", n_blocks * 10}, {"chrB", 500}};
  for (uint32_t i = 0; i < n_blocks; ++i) {
    spec.blocks.push_back(
        Block{bedgraph_section(0, {{i * 10, i * 10 + 10, static_cast<float>(i)}}), 0, i * 10, 0, i * 10 + 10});
  }
  return spec;
}

TEST(BatchPlan, SearchesOnThreadsPlanWhatOneThreadPlans) {
  FileSpec spec = ten_base_blocks(100);
  spec.blocks.resize(64);  // chrA's last 360 bases hold no data
  spec.blocks.push_back(Block{bedgraph_section(1, {{0, 500, 9.0f}}), 1, 0, 1, 500});
  TempFile tmp(build_bigwig(spec));
  bwl::engine::Collection collection({tmp.path(), tmp.path(), tmp.path()}, 1);
  const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
  const uint32_t chrB = static_cast<uint32_t>(collection.find_chrom("chrB"));
  bwl::engine::BatchRequest r;
  r.length = 25;
  for (size_t w = 0; w < 1500; ++w) {  // x 2 tracks: above kParallelPlanColumns
    r.chroms.push_back(w % 7 == 0 ? chrB : chrA);
    r.starts.push_back(static_cast<int64_t>((w * 37) % 1100) - 40);  // some before, some past the end
  }
  r.tracks = {2, 0};
  r.scales = {1.0f, 1.0f};
  ASSERT_GE(r.starts.size() * r.tracks.size(), bwl::engine::kParallelPlanColumns);
  bwl::ThreadPool pool(3);
  size_t tasks = 0;
  const bwl::engine::PlanThreads threads{pool.size(), [&](size_t n, const std::function<void(size_t, size_t)>& task) {
                                           tasks = n;
                                           pool.parallel_for(n, task);
                                         }};
  const bwl::engine::BatchPlan one = bwl::engine::plan_batch(collection, r);
  const bwl::engine::BatchPlan many = bwl::engine::plan_batch(collection, r, &threads);
  EXPECT_EQ(tasks, pool.size() * bwl::engine::kPlanTasksPerThread);
  expect_same_plan(many, one);
  // A small batch is one task, on the calling thread's turn.
  r.chroms.resize(10);
  r.starts.resize(10);
  bwl::engine::plan_batch(collection, r, &threads);
  EXPECT_EQ(tasks, 1u);
}

// Where the files hold many blocks against the batch's keys, the keys are sorted rather than
// tabled, and with threads each file's keys are sorted and numbered on a task of its own
// (number_planned_blocks_by_file): the plan is the one a single thread makes, to every block's
// chromosome (a block spanning two, read by windows on both: mixed_chroms) and need range.
TEST(BatchPlan, NumbersTheBlocksOfEachFileOnThreadsAsOneThreadDoes) {
  FileSpec spec = ten_base_blocks(5'000);
  // The last block spans both chromosomes.
  Bytes spanning = bedgraph_section(0, {{49'995, 50'000, 1.0f}});
  const Bytes on_b = bedgraph_section(1, {{0, 500, 9.0f}});
  spanning.insert(spanning.end(), on_b.begin(), on_b.end());
  spec.blocks.back() = Block{spanning, 0, 49'990, 1, 500};
  TempFile tmp(build_bigwig(spec));
  bwl::engine::Collection collection({tmp.path(), tmp.path(), tmp.path()}, 1);
  const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
  const uint32_t chrB = static_cast<uint32_t>(collection.find_chrom("chrB"));
  bwl::engine::BatchRequest r;
  r.length = 3;
  for (size_t w = 0; w < 700; ++w) {  // x 3 tracks: above kParallelPlanColumns, few keys against 15,000 blocks
    r.chroms.push_back(w % 9 == 0 ? chrB : chrA);
    r.starts.push_back(w % 50 == 0 ? 49'996 : static_cast<int64_t>((w * 7'919) % 50'010) - 4);
  }
  r.tracks = {2, 0, 1};
  r.scales = {1.0f, 1.0f, 1.0f};
  bwl::ThreadPool pool(3);
  std::vector<size_t> calls;
  const bwl::engine::PlanThreads threads{pool.size(), [&](size_t n, const std::function<void(size_t, size_t)>& task) {
                                           calls.push_back(n);
                                           pool.parallel_for(n, task);
                                         }};
  const bwl::engine::BatchPlan one = bwl::engine::plan_batch(collection, r);
  const bwl::engine::BatchPlan many = bwl::engine::plan_batch(collection, r, &threads);
  // The searches, then the sorts and the numbering: a task a file each.
  EXPECT_EQ(calls, (std::vector<size_t>{pool.size() * bwl::engine::kPlanTasksPerThread, 3, 3}));
  expect_same_plan(many, one);
  EXPECT_TRUE(std::any_of(one.blocks.begin(), one.blocks.end(), [](const auto& b) { return b.mixed_chroms; }));
  // Windows past every chromosome's end find no block: no keys to number, with threads or
  // without (the path above is the threads' alone).
  for (int64_t& start : r.starts) start = 60'000;
  for (const bwl::engine::PlanThreads* t : {static_cast<const bwl::engine::PlanThreads*>(nullptr), &threads}) {
    const bwl::engine::BatchPlan none = bwl::engine::plan_batch(collection, r, t);
    EXPECT_TRUE(none.blocks.empty());
    EXPECT_TRUE(none.column_blocks.empty());
  }
}

// A batch of few windows over many files checks the files and searches its columns in tasks on
// the threads it is given: the plan is the one a single thread makes, and a changed file raises
// the error the serial checks raise, naming the first changed file in track order, whichever
// task finds its change first.
TEST(BatchPlan, ChecksManyFilesOnThreadsAndNamesTheFirstChangedOne) {
  FileSpec spec;
  spec.chroms = {{"chrA", 1000}};
  for (uint32_t i = 0; i < 8; ++i) {
    spec.blocks.push_back(
        Block{bedgraph_section(0, {{i * 100, i * 100 + 50, static_cast<float>(i)}}), 0, i * 100, 0, i * 100 + 50});
  }
  const Bytes bytes = build_bigwig(spec);
  TempFile shared(bytes), early(bytes), late(bytes);
  std::vector<std::string> paths(bwl::engine::kParallelCheckFiles + 6, shared.path());
  paths.push_back(late.path());   // file n - 2
  paths.push_back(early.path());  // file n - 1
  bwl::engine::Collection collection(paths, 1);
  const uint32_t n = static_cast<uint32_t>(paths.size());
  bwl::engine::BatchRequest r;
  r.length = 300;
  r.chroms = {static_cast<uint32_t>(collection.find_chrom("chrA"))};
  r.starts = {150};
  r.tracks.push_back(n - 1);  // `early` first in track order: the first task checks it
  for (uint32_t f = 0; f + 2 < n; ++f) r.tracks.push_back(f);
  r.tracks.push_back(n - 2);  // `late` last: the last task checks it
  r.scales.assign(r.tracks.size(), 1.0f);
  ASSERT_LT(r.starts.size() * r.tracks.size(), bwl::engine::kParallelPlanColumns);
  bwl::ThreadPool pool(3);
  size_t tasks = 0;
  const bwl::engine::PlanThreads threads{pool.size(),
                                         [&](size_t count, const std::function<void(size_t, size_t)>& task) {
                                           tasks = count;
                                           pool.parallel_for(count, task);
                                         }};
  const bwl::engine::BatchPlan one = bwl::engine::plan_batch(collection, r);
  const bwl::engine::BatchPlan many = bwl::engine::plan_batch(collection, r, &threads);
  EXPECT_EQ(tasks, pool.size() * bwl::engine::kPlanTasksPerThread);
  ASSERT_EQ(many.columns.size(), one.columns.size());
  for (size_t c = 0; c < one.columns.size(); ++c) {
    EXPECT_EQ(
        std::make_tuple(many.columns[c].window_start, many.columns[c].chrom_id, many.columns[c].lo, many.columns[c].hi),
        std::make_tuple(one.columns[c].window_start, one.columns[c].chrom_id, one.columns[c].lo, one.columns[c].hi))
        << c;
  }
  EXPECT_EQ(many.column_begin, one.column_begin);
  EXPECT_EQ(many.column_blocks, one.column_blocks);
  ASSERT_EQ(many.blocks.size(), one.blocks.size());
  for (size_t b = 0; b < one.blocks.size(); ++b) {
    EXPECT_EQ(std::make_tuple(many.blocks[b].file, many.blocks[b].block),
              std::make_tuple(one.blocks[b].file, one.blocks[b].block));
  }
  EXPECT_EQ(one.blocks.size(), 3u * n);  // blocks 2, 3 and 4 of every file (each path opened as its own file)
  // Both of the last two files grow by a byte: the error names `early`, first in track order.
  for (const TempFile* changed : {&late, &early}) {
    std::FILE* f = std::fopen(changed->path().c_str(), "ab");
    ASSERT_NE(f, nullptr);
    std::fputc(0, f);
    std::fclose(f);
  }
  // On the pool, and with the tasks run last to first (the task that checks `late` fails first).
  const bwl::engine::PlanThreads backwards{pool.size(),
                                           [&](size_t count, const std::function<void(size_t, size_t)>& task) {
                                             tasks = count;
                                             for (size_t i = count; i-- > 0;) task(i, 0);
                                           }};
  for (const bwl::engine::PlanThreads* on : {&threads, &backwards}) {
    try {
      bwl::engine::plan_batch(collection, r, on);
      ADD_FAILURE() << "no FileChanged";
    } catch (const bwl::FileChanged& e) {
      EXPECT_NE(std::string(e.what()).find(early.path()), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find(late.path()), std::string::npos) << e.what();
    }
    EXPECT_EQ(tasks, pool.size() * bwl::engine::kPlanTasksPerThread);
  }
  // Few files: one task.
  r.tracks = {0, 1};
  r.scales = {1.0f, 1.0f};
  bwl::engine::plan_batch(collection, r, &threads);
  EXPECT_EQ(tasks, 1u);
}

TEST(BatchPlan, RejectsBadRequests) {
  TempFile tmp(build_bigwig(two_block_spec()));
  bwl::engine::Collection collection({tmp.path()}, 1);
  bwl::engine::BatchRequest r;
  r.chroms = {0};
  r.starts = {0};
  r.length = 10;
  r.tracks = {0};
  r.scales = {1.0f};
  EXPECT_NO_THROW(bwl::engine::plan_batch(collection, r));
  auto bad = r;
  bad.tracks = {1};
  EXPECT_THROW(bwl::engine::plan_batch(collection, bad), bwl::InvalidArgument);
  bad = r;
  bad.window_size = 11;
  EXPECT_THROW(bwl::engine::plan_batch(collection, bad), bwl::InvalidArgument);
  bad = r;
  bad.length = 0;
  EXPECT_THROW(bwl::engine::plan_batch(collection, bad), bwl::InvalidArgument);
  bad = r;
  bad.chroms = {7};
  EXPECT_THROW(bwl::engine::plan_batch(collection, bad), bwl::InvalidArgument);
  // Starts whose window end would overflow int64 (numpy wraps 2^63 to -2^63).
  for (int64_t start : {INT64_MAX - 5, INT64_MIN, bwl::engine::kMaxCoordinate + 1}) {
    bad = r;
    bad.starts = {start};
    EXPECT_THROW(bwl::engine::plan_batch(collection, bad), bwl::InvalidArgument) << start;
  }
  bad = r;
  bad.starts = {bwl::engine::kMaxCoordinate};
  EXPECT_NO_THROW(bwl::engine::plan_batch(collection, bad)) << "far outside every chromosome: default values";
}

TEST(BatchPlan, ARequestMarkedAsCheckedIsCheckedOnceAgainstItsCollection) {
  TempFile tmp(build_bigwig(two_block_spec()));
  bwl::engine::Collection two({tmp.path(), tmp.path()}, 1);
  bwl::engine::Collection one({tmp.path()}, 1);
  EXPECT_NE(two.id(), one.id());
  bwl::engine::BatchRequest r;
  r.chroms = {0};
  r.starts = {0};
  r.length = 10;
  r.tracks = {1};
  r.scales = {1.0f};
  EXPECT_FALSE(r.checked_against(two)) << "a request built in C++ is checked when planned";
  EXPECT_THROW(bwl::engine::check_and_mark_request(one, r), bwl::InvalidArgument);
  EXPECT_FALSE(r.checked_against(one)) << "a request that failed the check is not marked";
  bwl::engine::check_and_mark_request(two, r);
  EXPECT_TRUE(r.checked_against(two));
  EXPECT_FALSE(r.checked_against(one));
  const bwl::engine::BatchRequest copy = r;  // the loader plans its own copy
  EXPECT_TRUE(copy.checked_against(two));
  EXPECT_NO_THROW(bwl::engine::plan_batch(two, copy));
  // Against another collection the mark means nothing: track 1 is out of range there.
  EXPECT_THROW(bwl::engine::plan_batch(one, copy), bwl::InvalidArgument);
  // The mark is trusted, not re-checked: a field changed after marking (which the invariant
  // rules out) goes unseen against its collection and is refused against another.
  bwl::engine::BatchRequest changed = r;
  changed.smoothing = 0;
  EXPECT_NO_THROW(bwl::engine::plan_batch(two, changed));
  EXPECT_THROW(bwl::engine::check_request(two, changed), bwl::InvalidArgument);
}

TEST(BatchPlan, SetWindowsChecksTheWindowsAsGivenAndNamesTheBadOne) {
  using bwl::engine::set_windows;
  auto error_of = [](std::vector<uint32_t> chroms, std::vector<int64_t> starts, std::vector<int64_t> ends) {
    bwl::engine::BatchRequest r;
    try {
      set_windows(r, std::move(chroms), std::move(starts), ends);
    } catch (const bwl::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  bwl::engine::BatchRequest r;
  set_windows(r, {0, 1}, {10, 30}, {25, 45});
  EXPECT_EQ(r.length, 15);
  EXPECT_EQ(r.starts, (std::vector<int64_t>{10, 30}));
  EXPECT_EQ(r.chroms, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(error_of({0, 0}, {0}, {10}), "chromosomes, starts and ends differ in length (2, 1, 1)");
  EXPECT_EQ(error_of({}, {}, {}), "a batch needs at least one window");
  EXPECT_EQ(error_of({0, 0}, {0, 20}, {10, 20}), "window 1 has start 20 >= end 20");
  EXPECT_EQ(error_of({0, 0}, {0, 0}, {10, 20}),
            "windows must all have the same length: window 0 has 10, window 1 has 20");
  // Ends outside the coordinates are refused before any difference is taken; the widest window
  // inside them (2^63 bases, which int64 cannot hold) is refused as too long, not wrapped.
  EXPECT_NE(error_of({0}, {INT64_MIN}, {bwl::engine::kMaxCoordinate}).find("outside the coordinates"),
            std::string::npos);
  EXPECT_NE(error_of({0}, {-bwl::engine::kMaxCoordinate}, {bwl::engine::kMaxCoordinate}).find("longer than 2^32"),
            std::string::npos);
  EXPECT_NE(error_of({0, 0}, {0, -bwl::engine::kMaxCoordinate}, {10, bwl::engine::kMaxCoordinate})
                .find("window 0 has 10, window 1 has 9223372036854775808"),
            std::string::npos);
}

namespace {
// A request of windows of `length` bases in cells of `window_size` over tracks 0 to n_tracks - 1,
// track k scaled by k + 1, the default -0.5; the caller adds its windows.
bwl::engine::BatchRequest every_track_request(size_t n_tracks, int64_t length, uint32_t window_size = 1) {
  bwl::engine::BatchRequest r;
  r.length = length;
  r.window_size = window_size;
  r.default_value = -0.5f;
  for (uint32_t k = 0; k < n_tracks; ++k) {
    r.tracks.push_back(k);
    r.scales.push_back(static_cast<float>(k + 1));
  }
  return r;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
}  // namespace

TEST(CpuBatchProcessor, FillsTheBatchAcrossBlocksAndFiles) {
  TempFile tmp(build_bigwig(two_block_spec()));
  bwl::engine::Collection collection({tmp.path()}, 1);
  bwl::engine::BatchRequest r;
  r.chroms = {static_cast<uint32_t>(collection.find_chrom("chrA")),
              static_cast<uint32_t>(collection.find_chrom("chrB"))};
  r.starts = {96, -4};
  r.length = 8;
  r.window_size = 2;
  r.default_value = 0.0f;
  r.tracks = {0};
  r.scales = {1.0f};
  bwl::cpu::CpuBatchProcessor processor(2);
  std::vector<float> out(2 * 4 * 1, -1.0f);
  processor.load(collection, r, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 1, 2, 2, 0, 0, 3, 3}));
}

// Single-base cells are written a few at a time (Column::fill_cells may store past a run's end
// into cells written after it): runs and gaps of every short length, windows of every short
// length at every offset, over one track (the tile's slack) and several (the next column's
// first cells), with the cache on (whole blocks) and off (the window's runs), on the calling
// thread and (every window five times: above kInlineFillBases) on the pool's workers, give each
// base its run's scaled value or the default, exactly.
TEST(CpuBatchProcessor, SingleBaseCellsOfShortRunsAndGapsAreExact) {
  constexpr uint32_t kSize = 240;
  std::vector<float> truth(kSize, NAN);  // NaN: no run
  FileSpec spec;
  spec.chroms = {{"chrA", kSize}};
  std::vector<BedGraphItem> first, second;
  uint32_t at = 0;
  for (uint32_t i = 0; at < kSize; ++i) {
    const uint32_t gap = i % 4, length = 1 + i % 7;
    if (at + gap + length > kSize) break;
    const float value = 1.0f + static_cast<float>(i);
    (at + gap < kSize / 2 ? first : second).push_back({at + gap, at + gap + length, value});
    for (uint32_t p = at + gap; p < at + gap + length; ++p) truth[p] = value;
    at += gap + length;
  }
  spec.blocks.push_back(Block{bedgraph_section(0, first), 0, first.front().start, 0, first.back().end});
  spec.blocks.push_back(Block{bedgraph_section(0, second), 0, second.front().start, 0, second.back().end});
  TempFile tmp(build_bigwig(spec));
  for (const uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
    bwl::engine::Collection collection({tmp.path(), tmp.path(), tmp.path()}, 1, cache_bytes);
    const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
    bwl::cpu::CpuBatchProcessor processor(2);
    for (const std::vector<uint32_t>& tracks : {std::vector<uint32_t>{0}, std::vector<uint32_t>{2, 0, 1}}) {
      for (int64_t length = 1; length <= 13; ++length) {
        bwl::engine::BatchRequest r;
        r.length = length;
        r.default_value = -0.5f;
        r.tracks = tracks;
        for (uint32_t k = 0; k < tracks.size(); ++k) r.scales.push_back(static_cast<float>(k + 1));
        for (int repeat = 0; repeat < (tracks.size() > 1 && length == 13 ? 5 : 1); ++repeat) {
          for (int64_t start = -3; start + length <= kSize + 3; ++start) {
            r.chroms.push_back(chrA);
            r.starts.push_back(start);
          }
        }
        std::vector<float> out(r.starts.size() * length * tracks.size(), 1e9f);
        processor.load(collection, r, out.data());
        size_t i = 0;
        for (const int64_t start : r.starts) {
          for (int64_t p = start; p < start + length; ++p) {
            for (uint32_t k = 0; k < tracks.size(); ++k, ++i) {
              const bool covered = p >= 0 && p < kSize && !std::isnan(truth[p]);
              const float want = covered ? truth[p] * r.scales[k] : r.default_value;
              ASSERT_EQ(out[i], want) << "cache " << cache_bytes << ", " << tracks.size() << " tracks, window ["
                                      << start << ", " << start + length << "), base " << p << ", track " << k;
            }
          }
        }
      }
    }
  }
}

// Where a block's runs under a window are long on average, their cells are stored in bursts of 64
// (Column::fill_cells, reaching up to 63 cells past a run); where they are short, one 16-byte
// store at a time. A chromosome of dense short runs, then runs of every length from 1 to 140
// with gaps up to 69 bases, in blocks that mix the two, read in windows of lengths around the
// burst (63, 64, 65, 127, 128, 129) and longer ones crossing blocks, at many offsets, over one,
// three (the tile) and four tracks (straight into the batch), cache on and off, gives each base
// its run's scaled value or the default, exactly.
TEST(CpuBatchProcessor, CellsOfLongAndShortRunsAreExact) {
  constexpr uint32_t kSize = 12'000, kDense = 3'000, kBlockBases = 1'500;
  std::vector<float> truth(kSize, NAN);  // NaN: no run
  FileSpec spec;
  spec.chroms = {{"chrA", kSize}};
  std::vector<std::vector<BedGraphItem>> blocks(kSize / kBlockBases);
  uint32_t at = 0;
  for (uint32_t i = 0;; ++i) {
    const bool dense = at < kDense;
    const uint32_t gap = dense ? i % 2 : (i % 5 == 0 ? i % 70 : 0);
    const uint32_t length = dense ? 1 + i % 3 : 1 + i * 37 % 140;
    if (at + gap + length > kSize) break;
    const float value = 0.5f + static_cast<float>(i);
    blocks[(at + gap) / kBlockBases].push_back({at + gap, at + gap + length, value});
    for (uint32_t p = at + gap; p < at + gap + length; ++p) truth[p] = value;
    at += gap + length;
  }
  for (const auto& items : blocks) {
    spec.blocks.push_back(Block{bedgraph_section(0, items), 0, items.front().start, 0, items.back().end});
  }
  TempFile tmp(build_bigwig(spec));
  for (const uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
    bwl::cpu::CpuBatchProcessor processor(2);
    for (const size_t n_tracks : {size_t{1}, size_t{3}, size_t{4}}) {
      bwl::engine::Collection collection(std::vector<std::string>(n_tracks, tmp.path()), 1, cache_bytes);
      const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
      for (const int64_t length : {1, 5, 63, 64, 65, 127, 128, 129, 700, 2'500}) {
        bwl::engine::BatchRequest r = every_track_request(n_tracks, length);
        for (int64_t start = -70; start + length <= kSize + 70; start += length > 200 ? 31 : 13) {
          r.chroms.push_back(chrA);
          r.starts.push_back(start);
        }
        std::vector<float> out(r.starts.size() * length * n_tracks, 1e9f);
        processor.load(collection, r, out.data());
        size_t i = 0;
        for (const int64_t start : r.starts) {
          for (int64_t p = start; p < start + length; ++p) {
            for (uint32_t k = 0; k < n_tracks; ++k, ++i) {
              const bool covered = p >= 0 && p < kSize && !std::isnan(truth[p]);
              const float want = covered ? truth[p] * r.scales[k] : r.default_value;
              ASSERT_EQ(out[i], want) << "cache " << cache_bytes << ", " << n_tracks << " tracks, window [" << start
                                      << ", " << start + length << "), base " << p << ", track " << k;
            }
          }
        }
      }
    }
  }
}

// A window's columns are transposed into the batch's [cell][track] rows straight from where they
// were filled (transpose_store_float32) wherever whole groups of four tracks fit its rows, with
// streaming stores from kStreamingOutputBytes, and through the tile otherwise. Every track layout
// gives each cell its track's scaled value, the default, or the canonical NaN (stored NaNs of any
// sign and payload), bit for bit: tracks in fours (one tile; 64 tracks in slices of four on the
// pool) and not (six: the tile), cell counts with and without a partial group of four, outputs
// under and over the streaming bound, single bases and bins (whose means the batch written
// through the tile, one float into a buffer, checks), cache on and off.
TEST(CpuBatchProcessor, EveryTrackLayoutStoresEachCellBitForBit) {
  constexpr uint32_t kSize = 3000;
  std::vector<float> truth(kSize, 0.0f);
  std::vector<bool> covered(kSize, false);
  FileSpec spec;
  spec.chroms = {{"chrA", kSize}};
  std::vector<std::vector<BedGraphItem>> blocks(3);
  auto nan_bits = [](uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  };
  uint32_t at = 0;
  for (uint32_t i = 0;; ++i) {
    const uint32_t gap = i % 4, length = 1 + i % 9;
    if (at + gap + length > kSize) break;
    // Stored NaNs: signalling with a payload, and negative with a payload.
    const float value = i % 11 == 5 ? nan_bits(0x7FA00001u) : i % 13 == 7 ? nan_bits(0xFFC00005u) : 0.25f * i;
    blocks[std::min<size_t>(2, (at + gap) * 3 / kSize)].push_back({at + gap, at + gap + length, value});
    for (uint32_t p = at + gap; p < at + gap + length; ++p) {
      truth[p] = value;
      covered[p] = true;
    }
    at += gap + length;
  }
  for (const auto& items : blocks) {
    spec.blocks.push_back(Block{bedgraph_section(0, items), 0, items.front().start, 0, items.back().end});
  }
  TempFile tmp(build_bigwig(spec));
  struct Shape {
    size_t tracks, windows;
    int64_t length;
    uint32_t window_size;
  };
  const std::vector<Shape> shapes = {
      {4, 3, 1001, 1},   {12, 1, 1001, 1}, {16, 2, 999, 1}, {16, 70, 1000, 1},  // 4.5 MB: streaming
      {8, 140, 1003, 1}, {64, 1, 1001, 1}, {6, 3, 1001, 1}, {16, 70, 2000, 2},  // bins, streaming
      {4, 5, 2997, 3},   {20, 2, 1000, 1}, {10, 6, 1001, 1}};  // 10 tracks: slices of 4 in rows of 10, the tile
  for (const uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
    bwl::cpu::CpuBatchProcessor processor(2);
    for (const Shape& shape : shapes) {
      std::vector<std::string> paths(shape.tracks, tmp.path());
      bwl::engine::Collection collection(paths, 1, cache_bytes);
      const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
      bwl::engine::BatchRequest r = every_track_request(shape.tracks, shape.length, shape.window_size);
      for (size_t w = 0; w < shape.windows; ++w) {
        r.chroms.push_back(chrA);
        r.starts.push_back(static_cast<int64_t>(w * 7 % 11) - 5);  // some windows start before the chromosome
      }
      const size_t cells = static_cast<size_t>(shape.length / shape.window_size);
      const size_t n = shape.windows * cells * shape.tracks;
      std::vector<float> out(n + 4, 1e9f), through_tile(n + 1, 1e9f);
      processor.load(collection, r, out.data());
      processor.load(collection, r, through_tile.data() + 1);  // rows not 16-byte aligned: the tile
      size_t i = 0;
      for (size_t w = 0; w < shape.windows; ++w) {
        for (size_t c = 0; c < cells; ++c) {
          for (size_t k = 0; k < shape.tracks; ++k, ++i) {
            auto where = [&] {  // streamed only when an assertion fails
              return "cache " + std::to_string(cache_bytes) + ", " + std::to_string(shape.tracks) + " tracks x " +
                     std::to_string(shape.windows) + " windows of " + std::to_string(shape.length) + " / " +
                     std::to_string(shape.window_size) + ", window " + std::to_string(w) + " cell " +
                     std::to_string(c) + " track " + std::to_string(k);
            };
            ASSERT_EQ(bits_of(out[i]), bits_of(through_tile[i + 1])) << where();
            if (std::isnan(out[i])) ASSERT_EQ(bits_of(out[i]), 0x7FC00000u) << where();
            if (shape.window_size != 1) continue;
            const int64_t p = r.starts[w] + static_cast<int64_t>(c);
            const bool has = p >= 0 && p < kSize && covered[static_cast<size_t>(p)];
            if (has && std::isnan(truth[static_cast<size_t>(p)])) {
              ASSERT_TRUE(std::isnan(out[i])) << where();
            } else {
              ASSERT_EQ(out[i], has ? truth[static_cast<size_t>(p)] * r.scales[k] : r.default_value) << where();
            }
          }
        }
      }
      ASSERT_EQ(out[n], 1e9f) << "written past the batch";
    }
  }
}

// A window of more than kLongWindowCells cells over several tracks is filled in stretches of
// cells (stretch_query), each as a window of its own; one track keeps the whole window. So every
// long window over several tracks equals the same window read one track at a time, bit for bit,
// and single bases equal their runs' scaled values or the default: windows just over the bound
// (a last stretch of one cell) and well over it, single bases and bins (a cell whole in one
// stretch), 2 to 16 tracks (the tile; in fours straight into the batch; streaming), windows
// starting before the chromosome and running past its end (stretches with no base on it), cache
// on and off.
TEST(CpuBatchProcessor, LongWindowsInStretchesEqualOneTrackAtATime) {
  constexpr uint32_t kSizeA = 40'000, kSizeB = 9'000, kBlockBases = 2'000;
  std::vector<float> truth(kSizeA, NAN);  // chrA's; NaN: no run
  FileSpec spec;
  spec.chroms = {{"chrA", kSizeA}, {"chrB", kSizeB}};
  std::vector<std::vector<BedGraphItem>> blocks(kSizeA / kBlockBases);
  uint32_t at = 0;
  for (uint32_t i = 0;; ++i) {
    const uint32_t gap = i % 5 == 0 ? i % 70 : 0, length = 1 + i * 37 % 140;
    if (at + gap + length > kSizeA) break;
    const float value = 0.5f + static_cast<float>(i % 1000);
    blocks[(at + gap) / kBlockBases].push_back({at + gap, at + gap + length, value});
    for (uint32_t p = at + gap; p < at + gap + length; ++p) truth[p] = value;
    at += gap + length;
  }
  for (const auto& items : blocks) {
    spec.blocks.push_back(Block{bedgraph_section(0, items), 0, items.front().start, 0, items.back().end});
  }
  const std::vector<BedGraphItem> on_b = {{100, 5'000, 2.0f}, {6'000, 9'000, 3.0f}};
  spec.blocks.push_back(Block{bedgraph_section(1, on_b), 1, 100, 1, 9'000});
  TempFile tmp(build_bigwig(spec));
  struct Shape {
    size_t tracks;
    int64_t length;
    uint32_t window_size;
    size_t windows = 4;  // 1: the first window alone, filled on the calling thread (kInlineFillBases)
  };
  const std::vector<Shape> shapes = {{2, 20'000, 1},   {5, 12'001, 1}, {16, 30'000, 1},  // 16: streaming, in fours
                                     {6, 50'000, 1},                                     // streaming through the tile
                                     {4, 36'000, 3},   {3, 16'386, 2}, {6, 8'193, 1},
                                     {6, 8'192, 1},  // bins; just over and at the bound
                                     {2, 10'000, 1, 1}};
  for (const uint64_t cache_bytes : {uint64_t{0}, uint64_t{64} << 20}) {
    bwl::cpu::CpuBatchProcessor processor(2);
    bwl::engine::Collection one({tmp.path()}, 1, cache_bytes);
    for (const Shape& shape : shapes) {
      bwl::engine::Collection collection(std::vector<std::string>(shape.tracks, tmp.path()), 1, cache_bytes);
      const uint32_t chrA = static_cast<uint32_t>(collection.find_chrom("chrA"));
      const uint32_t chrB = static_cast<uint32_t>(collection.find_chrom("chrB"));
      bwl::engine::BatchRequest r = every_track_request(shape.tracks, shape.length, shape.window_size);
      r.chroms = {chrA, chrA, chrB, chrA};
      r.starts = {-5, 3'777, 1'000, -shape.length + 4'000};  // chrB: past its end; the last: mostly before 0
      r.chroms.resize(shape.windows);
      r.starts.resize(shape.windows);
      const size_t cells = static_cast<size_t>(shape.length / shape.window_size);
      const size_t windows = r.starts.size();
      std::vector<float> out(windows * cells * shape.tracks + 1, 1e9f);
      processor.load(collection, r, out.data());
      ASSERT_EQ(out.back(), 1e9f) << "written past the batch";
      for (uint32_t k = 0; k < shape.tracks; ++k) {
        bwl::engine::BatchRequest alone = r;
        alone.tracks = {0};
        alone.scales = {r.scales[k]};
        std::vector<float> column(windows * cells, 1e9f);
        processor.load(one, alone, column.data());
        for (size_t w = 0; w < windows; ++w) {
          for (size_t c = 0; c < cells; ++c) {
            const float got = out[(w * cells + c) * shape.tracks + k];
            auto where = [&] {
              return "cache " + std::to_string(cache_bytes) + ", " + std::to_string(shape.tracks) +
                     " tracks, windows of " + std::to_string(shape.length) + " / " + std::to_string(shape.window_size) +
                     ", window " + std::to_string(w) + " cell " + std::to_string(c) + " track " + std::to_string(k);
            };
            ASSERT_EQ(bits_of(got), bits_of(column[w * cells + c])) << where();
            if (shape.window_size != 1 || r.chroms[w] != chrA) continue;
            const int64_t p = r.starts[w] + static_cast<int64_t>(c);
            const bool has = p >= 0 && p < kSizeA && !std::isnan(truth[static_cast<size_t>(p)]);
            ASSERT_EQ(got, has ? truth[static_cast<size_t>(p)] * r.scales[k] : r.default_value) << where();
          }
        }
      }
      // chrB's window, from base 1,000: runs to 5,000 and from 6,000 to 9,000, then off the chromosome.
      if (shape.window_size == 1 && shape.windows > 2) {
        const size_t w = 2;
        for (size_t c = 0; c < cells; c += 997) {
          const int64_t p = 1'000 + static_cast<int64_t>(c);
          const float want = p < 5'000 ? 2.0f : p >= 6'000 && p < 9'000 ? 3.0f : r.default_value;
          ASSERT_EQ(out[(w * cells + c) * shape.tracks], want) << shape.tracks << " tracks, chrB base " << p;
        }
      }
    }
  }
}

// The finishing step reverse-complements a flipped window's one-hot sequence: the one-hot of its
// complemented, reversed bases (IUPAC codes and lowercase included), bit for bit; an unflipped
// window's stays as encoded.
// A stretch of a long window sees only its own runs, so each stretched column's order is checked
// over its whole window first: a corrupt file whose blocks hold runs out of order without sharing
// a base (blocks in the wrong order; an empty item on a stretch's edge inside another block's
// run) is refused over several tracks with the error one track gives (the same two blocks),
// single bases and bins, cache on and off.
TEST(CpuBatchProcessor, LongWindowsRefuseBlocksOutOfOrderAsOneTrackDoes) {
  struct Corrupt {
    const char* what;
    std::vector<BedGraphItem> first, second;
  };
  const std::vector<Corrupt> files = {
      {"blocks in the wrong order", {{9'000, 9'100, 1.0f}}, {{4'000, 4'050, 2.0f}}},
      {"an empty item on a stretch's edge", {{4'000, 4'200, 1.0f}}, {{4'096, 4'096, 2.0f}}}};
  for (const Corrupt& corrupt : files) {
    FileSpec spec;
    spec.chroms = {{"chrA", 20'000}};
    for (const auto* items : {&corrupt.first, &corrupt.second}) {
      spec.blocks.push_back(Block{bedgraph_section(0, *items), 0, items->front().start, 0, items->back().end});
    }
    TempFile bad(build_bigwig(spec));
    for (const uint64_t cache_bytes : {uint64_t{0}, uint64_t{1} << 20}) {
      bwl::cpu::CpuBatchProcessor processor(2);
      for (const uint32_t window_size : {1u, 2u}) {
        auto refusal = [&](size_t n_tracks) -> std::string {
          bwl::engine::Collection collection(std::vector<std::string>(n_tracks, bad.path()), 1, cache_bytes);
          bwl::engine::BatchRequest r = every_track_request(n_tracks, 20'000, window_size);
          r.chroms = {static_cast<uint32_t>(collection.find_chrom("chrA"))};
          r.starts = {0};
          std::vector<float> out(20'000 / window_size * n_tracks);
          try {
            processor.load(collection, r, out.data());
          } catch (const bwl::FormatError& e) {
            return e.what();
          }
          return "";
        };
        const std::string one = refusal(1);
        ASSERT_NE(one.find("overlap"), std::string::npos) << corrupt.what << ": " << one;
        EXPECT_EQ(refusal(3), one) << corrupt.what << ", window_size " << window_size << ", cache " << cache_bytes;
      }
    }
  }
}

TEST(CpuBatchProcessor, FlippedWindowsGetTheReverseComplementOfTheirBases) {
  TempFile tmp(build_bigwig(two_block_spec()));
  bwl::engine::Collection collection({tmp.path()}, 1);
  bwl::engine::BatchRequest r;
  const auto chrom = static_cast<uint32_t>(collection.find_chrom("chrA"));
  r.chroms = {chrom, chrom};
  r.starts = {0, 10};
  r.length = 4;
  r.tracks = {0};
  r.scales = {1.0f};
  r.flip = {1, 0};
  r.flip_tracks = {0};
  const std::string forward = std::string("ACGTRYKMBDHVNacgtrykm") + "ACGTRYKMBDHVNacgtrykm";
  const std::string reverse_complement = "kmryacgtNBDHVKMRYACGT";
  r.sequence_length = static_cast<int64_t>(forward.size() / 2);
  r.bases.assign(forward.begin(), forward.end());
  bwl::cpu::CpuBatchProcessor processor(1);
  const bwl::engine::LoadedBatch batch = processor.load(collection, r);
  const auto& got = static_cast<const bwl::HostTensor&>(*batch.sequences);
  const size_t row = static_cast<size_t>(r.sequence_length) * 4;
  std::vector<float> want(2 * row);
  bwl::fasta::encode_one_hot(reverse_complement.data(), reverse_complement.size(), bwl::DType::Float32, want.data());
  bwl::fasta::encode_one_hot(forward.data(), forward.size() / 2, bwl::DType::Float32, want.data() + row);
  const auto* data = static_cast<const float*>(got.data());
  EXPECT_EQ(std::vector<float>(data, data + 2 * row), want);
}

// flip_rows moves elements as their bits, for each element width: the flagged rows reversed
// along the length axis with their channels permuted, the others untouched.
template <typename T>
void expect_flip_rows_of_width(bwl::DType dtype) {
  const int64_t batch = 3, length = 5, channels = 3;
  bwl::HostTensor t({batch, length, channels}, dtype);
  auto* data = static_cast<T*>(t.data());
  for (int64_t i = 0; i < batch * length * channels; ++i) data[i] = static_cast<T>(i * 7 + 1);
  const std::vector<T> before(data, data + batch * length * channels);
  const std::vector<int64_t> permutation{2, 0, 1};
  bwl::flip_rows(t, {1, 0, 1}, permutation);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < length; ++i) {
      for (int64_t k = 0; k < channels; ++k) {
        const int64_t from =
            b % 2 == 0 ? (b * length + (length - 1 - i)) * channels + permutation[k] : (b * length + i) * channels + k;
        EXPECT_EQ(data[(b * length + i) * channels + k], before[from]) << b << " " << i << " " << k;
      }
    }
  }
}

TEST(Transforms, FlipRowsMovesEveryElementWidth) {
  expect_flip_rows_of_width<uint32_t>(bwl::DType::Float32);
  expect_flip_rows_of_width<uint16_t>(bwl::DType::BFloat16);
  expect_flip_rows_of_width<uint8_t>(bwl::DType::UInt8);
}
