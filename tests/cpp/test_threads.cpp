// Starting and stopping the project's threads: a refused thread start leaves nothing running and
// says why; the loader's close() may be called from several threads at once. These run under
// ThreadSanitizer too (scripts/sanitize.sh).
#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bbi_builder.hpp"
#include "common/thread_pool.hpp"
#include "common/thread_start.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/collection.hpp"
#include "loader/streamed_dataloader.hpp"

using namespace bwl::test;
using namespace std::chrono_literals;

namespace {

// Threads of this process now (Linux: one entry per thread in /proc/self/task).
size_t live_threads() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

// The threads live once those that have exited have left /proc, waiting a little (up to a
// second) for the count to reach `at_most`: a joined thread leaves after the kernel's bookkeeping,
// and a thread counted before a test may be one an earlier test joined that had not yet left (seen
// under ThreadSanitizer on a loaded machine: 3 counted before, 2 after). "Leaves nothing running"
// is then no more threads than before.
size_t live_threads_settled(size_t at_most) {
  for (int i = 0; i < 100 && live_threads() > at_most; ++i) std::this_thread::sleep_for(10ms);
  return live_threads();
}

// Turns the injected failure off whatever the test does.
struct InjectedThreadStartFailure {
  explicit InjectedThreadStartFailure(int64_t succeed_first) { bwl::testing::fail_thread_starts_after(succeed_first); }
  ~InjectedThreadStartFailure() { bwl::testing::fail_thread_starts_after(-1); }
};

FileSpec one_block_spec() {
  FileSpec s;
  s.chroms = {{"chrA", 1000}};
  s.blocks.push_back(Block{bedgraph_section(0, {{0, 100, 1.0f}, {100, 200, 2.0f}}), 0, 0, 0, 200});
  return s;
}

bwl::engine::BatchRequest request_for(const bwl::engine::Collection& collection, int64_t start) {
  bwl::engine::BatchRequest r;
  r.chroms = {static_cast<uint32_t>(collection.find_chrom("chrA"))};
  r.starts = {start};
  r.length = 100;
  r.window_size = 1;
  r.tracks = {0};
  r.scales = {1.0f};
  return r;
}

std::vector<std::unique_ptr<bwl::engine::BatchProcessor>> cpu_backends(size_t n) {
  std::vector<std::unique_ptr<bwl::engine::BatchProcessor>> backends;
  for (size_t i = 0; i < n; ++i) backends.push_back(std::make_unique<bwl::cpu::CpuBatchProcessor>(1));
  return backends;
}

}  // namespace

TEST(ThreadStart, ARefusedStartInThePoolThrowsAndLeavesNothingRunning) {
  const size_t before = live_threads();
  {
    InjectedThreadStartFailure refuse(3);  // the fourth worker thread is refused
    try {
      bwl::ThreadPool pool(8);
      FAIL() << "the pool started although the system refused a thread";
    } catch (const bwl::ThreadStartError& e) {
      EXPECT_NE(std::string(e.what()).find("worker thread 4 of 7"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
    }
  }
  EXPECT_LE(live_threads_settled(before), before);
  bwl::ThreadPool pool(3);  // and threads start again once the system allows them
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](size_t, size_t) { n++; });
  EXPECT_EQ(n.load(), 10);
}

TEST(ThreadStart, ARefusedFirstStartInThePoolThrows) {
  InjectedThreadStartFailure refuse(0);
  EXPECT_THROW(bwl::ThreadPool(2), bwl::ThreadStartError);
}

TEST(ThreadStart, ARefusedLoaderWorkerThrowsAndLeavesNothingRunning) {
  TempFile tmp(build_bigwig(one_block_spec()));
  bwl::engine::Collection collection({tmp.path()}, 1);
  const size_t before = live_threads();
  {
    InjectedThreadStartFailure refuse(2);
    EXPECT_THROW(bwl::loader::StreamedDataloader(collection, cpu_backends(5), 2), bwl::ThreadStartError);
  }
  EXPECT_LE(live_threads_settled(before), before);
}

TEST(StreamedDataloader, LoadsInSubmissionOrder) {
  TempFile tmp(build_bigwig(one_block_spec()));
  bwl::engine::Collection collection({tmp.path()}, 1);
  bwl::loader::StreamedDataloader loader(collection, cpu_backends(3), 4);
  for (int64_t i = 0; i < 4; ++i)
    ASSERT_EQ(loader.submit(request_for(collection, i * 50), 10s), bwl::loader::WaitResult::Ready);
  for (int64_t i = 0; i < 4; ++i) {
    bwl::engine::LoadedBatch loaded;
    ASSERT_EQ(loader.next(loaded, 10s), bwl::loader::WaitResult::Ready);
    const float* v = static_cast<const float*>(std::static_pointer_cast<bwl::HostTensor>(loaded.values)->data());
    const float expected = i * 50 < 100 ? 1.0f : (i * 50 < 200 ? 2.0f : 0.0f);
    EXPECT_EQ(v[0], expected) << "batch " << i;
  }
}

TEST(StreamedDataloader, CloseFromManyThreadsAtOnceReturnsInEveryThread) {
  TempFile tmp(build_bigwig(one_block_spec()));
  bwl::engine::Collection collection({tmp.path()}, 1);
  for (int round = 0; round < 20; ++round) {
    bwl::loader::StreamedDataloader loader(collection, cpu_backends(4), 8);
    for (int64_t i = 0; i < 8; ++i) loader.submit(request_for(collection, i), 1s);
    // A consumer waiting in next() while others close.
    std::thread consumer([&] {
      bwl::engine::LoadedBatch loaded;
      while (loader.next(loaded, 5ms) != bwl::loader::WaitResult::Closed) {
      }
    });
    std::atomic<int> returned{0};
    std::vector<std::thread> closers;
    for (int c = 0; c < 4; ++c) {
      closers.emplace_back([&] {
        loader.close();
        // Every close() returns only once the workers are gone.
        EXPECT_EQ(loader.num_workers(), 0u);
        returned++;
      });
    }
    for (auto& t : closers) t.join();
    consumer.join();
    EXPECT_EQ(returned.load(), 4);
    EXPECT_TRUE(loader.closed());
  }
}
