#pragma once
// The host half of the device pipeline: lays a planned batch out as stages::DeviceBatchView
// arrays, reads the planned blocks' stored bytes into one staging buffer (pinned memory in the
// CUDA backend, so one host-to-device copy moves them all), and turns what the device reports
// per block into errors and run offsets. The device half is stages/device_pipeline.hpp.
//
// Blocks the collection's cache holds (hits) are staged as their decoded runs instead of their
// stored bytes: they go up with the same copy and the device neither inflates nor decodes them.
// The split is made here, on the host, so a device-resident cache can later replace "stage the
// runs" with "point at the device copy" without touching the kernels' callers.
#include <cstdint>
#include <vector>

#include "engine/block_cache.hpp"
#include "common/thread_pool.hpp"
#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "stages/device_pipeline.hpp"

namespace bwl::engine {

struct DeviceBatchLayout {
  std::vector<stages::DeviceBlock> blocks;  // one per plan.blocks entry, same order
  uint64_t stored_bytes = 0;                // stored bytes of every planned block, back to back
  uint64_t inflated_bytes = 0;              // inflate capacity of the compressed blocks
};

// Offsets of every planned block in the staging buffer (plan order, which is disk order within
// a file, so blocks adjacent on disk are adjacent in staging) and in the inflated arena.
// `hits` (empty, or one per planned block): non-null entries are staged as their runs.
DeviceBatchLayout lay_out_device_batch(const Collection& collection, const BatchPlan& plan,
                                       const std::vector<CachedBlock>& hits = {});

// Copies each hit's runs to staged + blocks[i].in_offset.
void copy_cached_runs(const std::vector<CachedBlock>& hits, const DeviceBatchLayout& layout, uint8_t* staged);

// Reads every planned block's stored bytes (hits excepted) to staged + blocks[i].in_offset, on
// the pool, one read per run of blocks adjacent on disk. Throws FormatError for a truncated file.
void read_stored_bytes(const Collection& collection, const BatchPlan& plan, const DeviceBatchLayout& layout,
                       uint8_t* staged, ThreadPool& pool);

// Throws FormatError naming the file and the block's byte offset for the first planned block
// that did not inflate or decode.
void check_outcomes(const Collection& collection, const BatchPlan& plan, const stages::BlockOutcome* outcomes);

// Throws FormatError (engine::throw_overlapping_blocks) for the first column whose fill reported
// runs of two blocks that overlap; `overlaps` is DeviceBatchView::overlaps as filled.
void check_column_order(const Collection& collection, const BatchPlan& plan, const uint32_t* overlaps);

// offsets[i] = runs kept by blocks before i; returns the total.
uint64_t scan_run_offsets(const stages::BlockOutcome* outcomes, size_t n, uint64_t* offsets);

}  // namespace bwl::engine
