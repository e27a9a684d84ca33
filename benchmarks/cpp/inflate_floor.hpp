#pragma once
// The benchmark floor of a batch: libdeflate inflating exactly the unique blocks a planned batch
// needs, from memory, on as many threads as the CPU processor. get_batch cannot beat this (it
// also fetches, decodes and fills); the goal is to stay within 1.2x of it. Benchmark-only: its
// own target (bwl_bench), outside the core library, bound in its own module bigwig_loader._bench
// (cpp/python_bindings/bench_module.cpp, built with -DBWL_BUILD_BENCH=ON) for benchmarks/harness.py.
#include <cstddef>
#include <cstdint>

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"

namespace bwl::bench {

struct InflateFloor {
  double seconds = 0;  // best of the repeats, for the whole batch's blocks
  size_t blocks = 0;
  uint64_t compressed_bytes = 0;
  uint64_t inflated_bytes = 0;
};

// Reads the plan's blocks into memory (not timed), then times inflating all of them with
// `n_threads` threads (0: all CPUs), `repeats` times. Uncompressed files count zero seconds.
InflateFloor measure_inflate_floor(const engine::Collection& collection, const engine::BatchPlan& plan,
                                   size_t n_threads, int repeats);

}  // namespace bwl::bench
