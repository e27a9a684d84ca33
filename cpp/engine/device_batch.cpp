#include "engine/device_batch.hpp"

#include <cstring>
#include <string>

#include "common/errors.hpp"
#include "format/block_reader.hpp"

namespace bwl::engine {

DeviceBatchLayout lay_out_device_batch(const Collection& collection, const BatchPlan& plan,
                                       const std::vector<CachedBlock>& hits) {
  DeviceBatchLayout layout;
  layout.blocks.reserve(plan.blocks.size());
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const PlannedBlock& pb = plan.blocks[i];
    const format::BigWigFile& file = collection.file(pb.file);
    const format::DataBlock& block = file.block_index().blocks()[pb.block];
    const CachedRuns* hit = hits.empty() ? nullptr : hits[i].get();
    stages::DeviceBlock s{};
    if (hit != nullptr) {
      constexpr uint64_t align = alignof(stages::Run);
      layout.stored_bytes = (layout.stored_bytes + align - 1) / align * align;
      s.in_size = static_cast<uint32_t>(hit->runs.size() * sizeof(stages::Run));
      s.cached = 1;
    } else {
      s.in_size = static_cast<uint32_t>(block.size);  // the index caps blocks far below 4 GiB
      s.compressed = file.header().compressed() ? 1u : 0u;
    }
    s.in_offset = layout.stored_bytes;
    s.out_offset = layout.inflated_bytes;
    s.out_capacity = s.compressed ? file.header().uncompress_buf_size : 0;
    s.keep = stages::KeepNeededRuns{pb.mixed_chroms, pb.chrom_id, pb.need_lo, pb.need_hi};
    layout.stored_bytes += s.in_size;
    layout.inflated_bytes += s.out_capacity;
    layout.blocks.push_back(s);
  }
  return layout;
}

void read_stored_bytes(const Collection& collection, const BatchPlan& plan, const DeviceBatchLayout& layout,
                       uint8_t* staged, ThreadPool& pool) {
  // Groups of planned blocks that lie back to back in one file: one read each. The plan is in
  // (file, block number) order, so each file's blocks are together and in disk order.
  std::vector<size_t> group_start;
  const size_t n = plan.blocks.size();
  for (size_t i = 0; i < n;) {
    if (layout.blocks[i].cached) {  // staged from the cache: a group of one, not read
      group_start.push_back(i++);
      continue;
    }
    // The file's blocks from here up to the next cache hit, then grouped into reads.
    size_t stretch_end = i;
    while (stretch_end < n && plan.blocks[stretch_end].file == plan.blocks[i].file &&
           !layout.blocks[stretch_end].cached) {
      ++stretch_end;
    }
    const auto& blocks = collection.file(plan.blocks[i].file).block_index().blocks();
    auto block_at = [&](size_t p) -> const format::DataBlock& { return blocks[plan.blocks[p].block]; };
    while (i < stretch_end) {
      group_start.push_back(i);
      i = format::end_of_read_group(i, stretch_end, block_at);
    }
  }
  group_start.push_back(plan.blocks.size());
  pool.parallel_for(group_start.size() - 1, [&](size_t g, size_t) {
    const size_t first = group_start[g], last = group_start[g + 1];
    if (layout.blocks[first].cached) return;  // a group of one hit
    const format::BigWigFile& file = collection.file(plan.blocks[first].file);
    const uint64_t offset = file.block_index().blocks()[plan.blocks[first].block].offset;
    const uint64_t bytes =
        layout.blocks[last - 1].in_offset + layout.blocks[last - 1].in_size - layout.blocks[first].in_offset;
    file.file().read_exact(offset, bytes, staged + layout.blocks[first].in_offset, "data blocks");
  });
}

void copy_cached_runs(const std::vector<CachedBlock>& hits, const DeviceBatchLayout& layout, uint8_t* staged) {
  for (size_t i = 0; i < hits.size(); ++i) {
    if (!hits[i]) continue;
    const stages::DeviceBlock& s = layout.blocks[i];
    if (s.in_size > 0) std::memcpy(staged + s.in_offset, hits[i]->runs.data(), s.in_size);
  }
}

void check_outcomes(const Collection& collection, const BatchPlan& plan, const stages::BlockOutcome* outcomes) {
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const stages::BlockOutcome& o = outcomes[i];
    if (o.inflate_status == stages::InflateStatus::Ok && o.decode_status == stages::DecodeStatus::Ok) continue;
    const format::BigWigFile& file = collection.file(plan.blocks[i].file);
    const uint64_t offset = file.block_index().blocks()[plan.blocks[i].block].offset;
    if (o.inflate_status != stages::InflateStatus::Ok)
      throw format_error(file.path(), format::inflate_failure(o.inflate_status), offset);
    throw format_error(file.path(),
                       format::decode_failure(stages::DecodeResult{o.decode_status, o.runs, o.error_offset}), offset);
  }
}

void check_column_order(const Collection& collection, const BatchPlan& plan, const uint32_t* overlaps) {
  const size_t n_columns = plan.batch * plan.n_tracks;
  for (size_t c = 0; c < n_columns; ++c) {
    if (overlaps[2 * c + 1] != 0) throw_overlapping_blocks(collection, plan, overlaps[2 * c], overlaps[2 * c + 1] - 1);
  }
}

uint64_t scan_run_offsets(const stages::BlockOutcome* outcomes, size_t n, uint64_t* offsets) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    offsets[i] = total;
    total += outcomes[i].runs;
  }
  return total;
}

}  // namespace bwl::engine
