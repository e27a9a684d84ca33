#include "inflate_floor.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <vector>

#include "common/errors.hpp"
#include "common/thread_pool.hpp"
#include "stages/host_inflate.hpp"

namespace bwl::bench {

InflateFloor measure_inflate_floor(const engine::Collection& collection, const engine::BatchPlan& plan,
                                   size_t n_threads, int repeats) {
  InflateFloor floor;
  floor.blocks = plan.blocks.size();
  struct Input {
    std::vector<uint8_t> bytes;
    uint32_t capacity;
  };
  std::vector<Input> inputs;
  for (const engine::PlannedBlock& pb : plan.blocks) {
    const format::BigWigFile& f = collection.file(pb.file);
    if (!f.header().compressed()) continue;
    const format::DataBlock& block = f.block_index().blocks()[pb.block];
    Input in{std::vector<uint8_t>(block.size), f.header().uncompress_buf_size};
    f.file().read_exact(block.offset, block.size, in.bytes.data(), "data block");
    floor.compressed_bytes += block.size;
    inputs.push_back(std::move(in));
  }
  ThreadPool pool(n_threads);
  std::vector<std::unique_ptr<stages::HostInflater>> inflaters;
  std::vector<std::vector<uint8_t>> outputs(pool.size());
  for (size_t w = 0; w < pool.size(); ++w) inflaters.push_back(std::make_unique<stages::HostInflater>());
  std::vector<size_t> written(inputs.size());
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < std::max(repeats, 1); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(inputs.size(), [&](size_t i, size_t worker) {
      std::vector<uint8_t>& out = outputs[worker];
      if (out.size() < inputs[i].capacity) out.resize(inputs[i].capacity);
      if (inflaters[worker]->inflate_zlib(inputs[i].bytes.data(), inputs[i].bytes.size(), out.data(), out.size(),
                                          &written[i]) != stages::InflateStatus::Ok) {
        throw FormatError("inflate floor: a block did not inflate");
      }
    });
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  for (size_t n : written) floor.inflated_bytes += n;
  floor.seconds = inputs.empty() ? 0.0 : best;
  return floor;
}

}  // namespace bwl::bench
