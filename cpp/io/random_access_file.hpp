#pragma once
// A read-only local file read with pread: there is no shared cursor, so one open file may be read
// by any number of threads at once. Its descriptor belongs to the process's DescriptorPool, which
// may close it while no read holds it and opens it again on the next read (many files under a
// low open-files limit). Optionally also mapped whole at open (Mapped::Yes: mapping()), for
// readers that read in place; the mapping needs no descriptor once made. Not copyable; closes
// its descriptor and unmaps on destruction.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "io/byte_source.hpp"

namespace bwl::io {

class RandomAccessFile final : public ByteSource {
 public:
  // Throws FileNotFound when the path does not exist or is not a regular file, Error when it
  // cannot be opened for another reason (permissions, ...). With Mapped::Yes the whole file is
  // also mapped read-only (io::MappedFile, Access::Random), for readers that read many small
  // scattered ranges in place (a bigWig's blocks, inflated where they lie); when the system refuses the mapping, or the
  // process's address space is limited (RLIMIT_AS: mapping every file would spend it), mapping()
  // is null and every read is a pread.
  enum class Mapped { No, Yes };
  explicit RandomAccessFile(std::string path, Mapped mapped = Mapped::No);
  ~RandomAccessFile() override;

  const MappedFile* mapping() const override;

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
  // (removed).
  //
  // It runs before every batch, for every file the batch reads, so its cost is paid per file per
  // batch: a stat() of the path walks every component of it (~1.3 us on the development VM, 20% of
  // a warm batch of one window over 16 tracks), an fstat() of the open descriptor does not
  // (~0.4 us). So while the pool holds the file open, the descriptor is checked: the same size
  // and modification time mean the bytes read through it are the bytes opened (rewritten in
  // place: caught at once), and a changed link count catches the usual replacement or removal
  // (os.replace or unlink leave the opened inode with one link fewer: caught at once). Only the
  // path shows a path now resolving elsewhere while the opened file keeps its links (a symlink
  // pointed at another file, a folder renamed over, the file renamed away and a new one made in
  // its place): the path is stat()ed when anything above differs, when the descriptor is closed,
  // and at least every kPathRecheckSeconds otherwise. Such a change is then reported within that
  // interval; until then reads go on through the opened descriptor, which still reads the file
  // first opened (a file is never read half old, half new: a closed descriptor is opened again
  // only after the same identity check).
  void check_unchanged() const override;
  static constexpr double kPathRecheckSeconds = 1.0;

 private:
  friend class DescriptorPool;
  // Opens the path again (the pool closed it) and checks it is the file first opened: FileChanged
  // otherwise. Returns the descriptor, or -1 with errno EMFILE/ENFILE (no descriptor free).
  int reopen() const;

  // What check_unchanged and reopen compare: the opened file as fstat saw it at open.
  uint64_t device_ = 0, inode_ = 0;
  int64_t mtime_seconds_ = 0, mtime_nanoseconds_ = 0;
  // check_unchanged's: the opened file's link count and when the path was last stat()ed (steady
  // clock, nanoseconds), as of the open or the last check of the path.
  mutable std::atomic<uint64_t> links_{0};
  mutable std::atomic<int64_t> path_checked_at_{0};
  // The path's stat against what was opened: FileChanged naming what differs; else the link
  // count it saw.
  uint64_t check_path() const;
  // The pool's, under its lock: the descriptor (-1 while closed), the reads holding it, and the
  // file's place among the pool's idle files.
  mutable int fd_ = -1;
  mutable size_t leases_ = 0;
  mutable bool idle_ = false;
  mutable std::list<const RandomAccessFile*>::iterator idle_at_;
  // Made at open with Mapped::Yes; it holds no descriptor (the pool may close the file's).
  std::unique_ptr<MappedFile> map_;
};

}  // namespace bwl::io
