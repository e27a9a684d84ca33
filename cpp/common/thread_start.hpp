#pragma once
// Starting the project's own threads (thread pools, loader workers) in one place, so that a
// refusal by the operating system (thread or process limits in containers) becomes one clear
// error, and so that tests can make that refusal happen on purpose.
//
// Callers must leave nothing running when a start fails: they stop and join the threads they
// already started before letting ThreadStartError out of their constructor.
#include <cstdint>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "common/errors.hpp"

namespace bwl {

// The operating system refused to start a thread. Reaches Python as OSError (a bwl::Error).
class ThreadStartError : public Error {
 public:
  using Error::Error;
};

namespace testing {
// Test hook: the next `n` thread starts succeed and every later one fails as if the system
// refused it (EAGAIN); n < 0 (the default) turns the failure off. Process-wide.
void fail_thread_starts_after(int64_t n);
}  // namespace testing

namespace detail {
// Throws std::system_error(EAGAIN) when the test hook says this start must fail.
void check_injected_thread_start_failure();
}  // namespace detail

// std::thread(f), or ThreadStartError naming `what` ("worker thread 3 of 8 of the thread pool")
// and what the system said.
template <typename F>
std::thread start_thread(F&& f, const std::string& what) {
  try {
    detail::check_injected_thread_start_failure();
    return std::thread(std::forward<F>(f));
  } catch (const std::system_error& e) {
    throw ThreadStartError("could not start " + what + ": " + e.what() +
                           " (the system's limit on threads or processes may be reached; use fewer threads)");
  }
}

}  // namespace bwl
