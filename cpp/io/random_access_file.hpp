#pragma once
// A read-only local file read with pread: there is no shared cursor, so one open file may be read
// by any number of threads at once. Not copyable; closes its descriptor on destruction.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/byte_source.hpp"

namespace bwl::io {

class RandomAccessFile final : public ByteSource {
 public:
  // Throws FileNotFound when the path does not exist or is not a regular file, Error when it
  // cannot be opened for another reason (permissions, ...).
  explicit RandomAccessFile(std::string path);
  ~RandomAccessFile() override;
  // The open descriptor, for mapping the same file (io::MappedFile); owned by this object.
  int descriptor() const { return fd_; }

  void read_exact(uint64_t offset, size_t length, void* dst, const char* what) const override;

  // FileChanged when the path no longer names the file opened, as it was then: another device
  // or inode (replaced), another size or modification time (rewritten in place), or nothing
  // (removed). One stat() of the path: only the path shows a file replaced through a symlink.
  void check_unchanged() const override;

 private:
  int fd_ = -1;
  // What check_unchanged compares: the opened file as fstat saw it at open.
  uint64_t device_ = 0, inode_ = 0;
  int64_t mtime_seconds_ = 0, mtime_nanoseconds_ = 0;
};

}  // namespace bwl::io
