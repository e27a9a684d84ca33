#pragma once
// The one grouping of blocks into host tasks, for the CPU backend's decode (its phase 1) and the
// cache's preload: consecutive blocks, in file then disk order, up to kBlocksPerTask of one file
// a task (enough to merge adjacent reads, few enough to balance the load).
#include <cstddef>
#include <vector>

namespace bwl::engine {

constexpr size_t kBlocksPerTask = 8;

// The first of each task's blocks among blocks [0, n), then n: task t is [starts[t],
// starts[t + 1]). `file_of(i)` is block i's file; a task never crosses a file.
template <typename FileOf>
std::vector<size_t> block_task_starts(size_t n, FileOf file_of) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < n; ++i) {
    if (starts.empty() || i - starts.back() == kBlocksPerTask || file_of(i) != file_of(i - 1)) starts.push_back(i);
  }
  starts.push_back(n);
  return starts;
}

}  // namespace bwl::engine
