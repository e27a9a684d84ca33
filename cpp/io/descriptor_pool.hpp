#pragma once
// The descriptors of the open local files, bounded by what the process's open-files limit
// leaves. Enformer-scale training reads thousands of files where the limit may be 1,024 and
// the hard limit no higher: the pool keeps the most recently read files open and closes the
// least recently read idle one to make room, and a closed file is opened again when read, after
// checking it is still the file first opened (else FileChanged). Below the limit nothing is
// ever closed, and a read costs one uncontended lock more than a bare pread.
//
// Invariant: a file's descriptor is closed only while no read holds a lease on it, so a
// pread never races a close; the files open number at most `capacity` unless every open one is
// leased at once (then one more is opened rather than a read made to wait).
#include <cstddef>
#include <list>
#include <mutex>
#include <string>

struct stat;

namespace bwl::io {

class RandomAccessFile;

class DescriptorPool {
 public:
  // The process's one pool (its limit is the process's).
  static DescriptorPool& instance();

  // Sets the capacity to what the open-files soft limit leaves for the pool's files besides the
  // process's other descriptors and a margin (at least a few). Called by a collection after it
  // has raised the soft limit, and at first use.
  void fit_to_limit();
  // For tests: a capacity of `n` files (at least 1).
  void set_capacity(size_t n);
  size_t capacity() const;
  size_t open_files() const;

  // A new descriptor of `path` (read-only), room made for it first: Error naming the path when it
  // cannot be opened. It is counted from here on; adopt() or close_new() next.
  int open_new(const std::string& path);
  void close_new(int fd);
  // The file whose constructor opened `fd` (open_new): idle, most recently used.
  void adopt(const RandomAccessFile& file, int fd);
  // The descriptor of `file`, opened again if the pool had closed it; held until release().
  int acquire(const RandomAccessFile& file);
  void release(const RandomAccessFile& file);
  // fstat() of `file`'s descriptor when the pool has it open (true), leased meanwhile so that it
  // cannot be closed (the fstat outside the pool's lock: on a network file system it may be a
  // round trip); false, `st` untouched, when it is closed or fstat fails. Never opens it; counts
  // as a read in the least recently read order.
  bool stat_if_open(const RandomAccessFile& file, struct stat& st);
  // A file being destroyed: its descriptor closed if open, forgotten.
  void forget(const RandomAccessFile& file);

 private:
  DescriptorPool();
  // Closes idle files, least recently read first, until fewer than capacity are open (or none
  // idle is left). Holds mutex_.
  void make_room_locked();
  // Closes the least recently read idle file; false when none is idle. Holds mutex_.
  bool close_one_idle_locked();

  mutable std::mutex mutex_;
  std::list<const RandomAccessFile*> idle_;  // open, not leased; least recently released first
  size_t open_ = 0;
  size_t capacity_ = 0;
};

}  // namespace bwl::io
