#pragma once
// The fuzzers' input as a file: the readers under test open paths (pread), so each input is
// written to one in-memory file per process (memfd), rewritten for every input and opened by
// its /proc/self/fd path. A file on disk costs milliseconds per input to truncate and write.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bwl::fuzz {

class InputFile {
 public:
  explicit InputFile(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
    if (fd_ < 0) fail("memfd_create");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  // Replaces the file's bytes with data[0, size); aborts when it cannot (the harness's failure).
  void write(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) fail("ftruncate");
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) fail("pwrite");
      done += static_cast<size_t>(n);
    }
  }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] static void fail(const char* what) {
    std::perror(what);
    std::abort();
  }
  int fd_;
  std::string path_;
};

}  // namespace bwl::fuzz
