#pragma once
// A read-only file read with pread: there is no shared cursor, so one open file may be read by
// any number of threads at once. Not copyable; closes its descriptor on destruction.
#include <cstddef>
#include <cstdint>
#include <string>

namespace bwl::io {

class RandomAccessFile {
 public:
  // Throws FileNotFound when the path does not exist or is not a regular file, Error when it
  // cannot be opened for another reason (permissions, ...).
  explicit RandomAccessFile(std::string path);
  ~RandomAccessFile();
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // The open descriptor, for mapping the same file (io::MappedFile); owned by this object.
  int descriptor() const { return fd_; }

  // Reads exactly `length` bytes at `offset` into `dst`. A range past the end of the file throws
  // FormatError naming `what` (e.g. "chromosome tree node") and the offset: in a BBI file every
  // read is of something an index or header promised, so a short file means a truncated one.
  void read_exact(uint64_t offset, size_t length, void* dst, const char* what) const;

  // Throws FileChanged naming the file when the path no longer names the file opened, as it was
  // then: another device or inode (replaced), another size or modification time (rewritten in
  // place), or nothing (removed). One stat(); callers that keep what they read from a file (an
  // index, decoded blocks) call it before trusting that again.
  void check_unchanged() const;

  // Throws what read_exact throws for a range past the end of the file, without reading. Called
  // before allocating a buffer whose size a file field gives, so that no file makes the reader
  // allocate more than the bytes it actually has.
  void check_range(uint64_t offset, uint64_t length, const char* what) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  // What check_unchanged compares: the opened file as fstat saw it at open.
  uint64_t device_ = 0, inode_ = 0;
  int64_t mtime_seconds_ = 0, mtime_nanoseconds_ = 0;
};

}  // namespace bwl::io
