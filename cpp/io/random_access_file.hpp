#pragma once
// A read-only local file read with pread: there is no shared cursor, so one open file may be read
// by any number of threads at once. Its descriptor belongs to the process's DescriptorPool, which
// may close it while no read holds it and opens it again on the next read (many files under a
// low open-files limit). Not copyable; closes its descriptor on destruction.
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>

#include "io/byte_source.hpp"

namespace bwl::io {

class RandomAccessFile final : public ByteSource {
 public:
  // Throws FileNotFound when the path does not exist or is not a regular file, Error when it
  // cannot be opened for another reason (permissions, ...).
  explicit RandomAccessFile(std::string path);
  ~RandomAccessFile() override;

  // The file's descriptor, open while the lease lives (for mapping the file: io::MappedFile).
  class Lease {
   public:
    explicit Lease(const RandomAccessFile& file);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    int fd() const { return fd_; }

   private:
    const RandomAccessFile& file_;
    int fd_;
  };

  void read_exact(uint64_t offset, size_t length, void* dst, const char* what) const override;

  // FileChanged when the path no longer names the file opened, as it was then: another device
  // or inode (replaced), another size or modification time (rewritten in place), or nothing
  // (removed). One stat() of the path: only the path shows a file replaced through a symlink.
  void check_unchanged() const override;

 private:
  friend class DescriptorPool;
  // Opens the path again (the pool closed it) and checks it is the file first opened: FileChanged
  // otherwise. Returns the descriptor, or -1 with errno EMFILE/ENFILE (no descriptor free).
  int reopen() const;

  // What check_unchanged and reopen compare: the opened file as fstat saw it at open.
  uint64_t device_ = 0, inode_ = 0;
  int64_t mtime_seconds_ = 0, mtime_nanoseconds_ = 0;
  // The pool's, under its lock: the descriptor (-1 while closed), the reads holding it, and the
  // file's place among the pool's idle files.
  mutable int fd_ = -1;
  mutable size_t leases_ = 0;
  mutable bool idle_ = false;
  mutable std::list<const RandomAccessFile*>::iterator idle_at_;
};

}  // namespace bwl::io
