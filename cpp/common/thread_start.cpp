#include "common/thread_start.hpp"

#include <atomic>
#include <cerrno>

namespace bwl {
namespace {
std::atomic<int64_t> g_starts_left{-1};  // < 0: no injected failure
}  // namespace

void testing::fail_thread_starts_after(int64_t n) { g_starts_left.store(n < 0 ? -1 : n); }

void detail::check_injected_thread_start_failure() {
  int64_t left = g_starts_left.load();
  while (left >= 0) {
    if (left == 0)
      throw std::system_error(EAGAIN, std::generic_category(), "thread start refused (injected by a test)");
    if (g_starts_left.compare_exchange_weak(left, left - 1)) return;
  }
}

}  // namespace bwl
