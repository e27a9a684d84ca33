#pragma once
// A read-only memory map of a whole file, for reads so small and so many that a pread's system
// call and page-cache lookup cost more than the copy: a dataset reads a 2 kb window of the FASTA
// per sample (a third less CPU on the loader's feeder thread than with pread), and a bigWig's
// compressed blocks are inflated where they lie in it, with no read and no copy
// (format/block_reader.hpp: a pread's system call and copy had been 7% of a cold batch).
//
// A mapping has one hazard a pread has not: when the file is truncated by someone else after it
// was mapped, reading a page past the new end raises SIGBUS, which would kill the process (and
// the rest of the page holding the new end reads as zeros: FastaFile checks for those). Reads
// therefore run under a fault guard: read() runs its function with the mapped bytes, and a
// SIGBUS the kernel raises for an address of that mapping, on this thread, inside it, ends the
// function there and makes read() return false, so that the caller falls back to pread and
// reports the truncated file as it always does. Any other SIGBUS (another address, another
// thread, one sent by kill) goes to the handling that was there before ours (or the default
// action), as if this file did not exist.
//
// The handler is installed when the first file is mapped. A handler installed after it sees a
// guarded read's fault first and decides what becomes of it: Python's faulthandler prints its
// report and hands the signal back, and the read still ends in the caller's error; a handler that
// ends the process (torch's DataLoader worker processes install one) would end it, so the
// datasets call fault_guard::reclaim_handler() in a worker before reading, which puts ours back
// in front of that one.
//
// Memory: the pages read stay mapped, so they count in the process's resident set (VmRSS, as
// RssFile) up to the file's size (for a collection, up to the bigWig bytes its batches
// touched). They are the page cache's pages, which a pread would have filled too: shared with
// every process reading the file, reclaimable, no memory of our own.
//
// Thread contract: immutable after construction; any number of threads may read at once.
#include <setjmp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "io/random_access_file.hpp"

namespace bwl::io {

namespace fault_guard {
// This thread's guarded read of [begin, begin + size): a fault there jumps back to `jump`
// (disarmed). Not re-entrant: a guarded read inside another is a logic_error.
void arm(sigjmp_buf* jump, const void* begin, uint64_t size);
void disarm();
// Puts the process's SIGBUS handler back in front when another was installed after it (torch's
// DataLoader worker processes install one that ends the process on any bus error, so a FASTA
// truncated under a worker killed it with "Bus error" and no file named). The handler it
// displaces is kept and gets every SIGBUS that is not a guarded read's, as the first one's was;
// a chain that leads back to ours ends in the default action, not in a loop. Returns whether
// it had to reinstall. Does nothing before any file is mapped.
bool reclaim_handler();
}  // namespace fault_guard

class MappedFile {
 public:
  // How the file will be read, for the kernel's read-around of pages not yet in the page cache:
  // Sequential is the default (a fault reads the pages around it too: a FASTA's windows), Random
  // reads only what is touched (MADV_RANDOM: a bigWig's blocks, scattered, a few KB each; with
  // the default, a batch over files not in the page cache read 2-3x the bytes a pread of each
  // block did). Pages already in the page cache are mapped around a fault either way.
  enum class Access { Sequential, Random };
  // Maps all of `file` read-only, installing the process's SIGBUS handler the first time. When
  // the file is empty or the system refuses the mapping, nothing is mapped: mapped() is false
  // and the caller reads with pread.
  explicit MappedFile(const RandomAccessFile& file, Access access = Access::Sequential);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  bool mapped() const { return data_ != nullptr; }
  uint64_t size() const { return size_; }

  // Prefetches the cache lines of [offset, offset + n) of the mapping (clipped to it). Safe
  // whatever the file has become: a prefetch instruction never faults.
  void prefetch(uint64_t offset, uint64_t n) const {
    if (data_ == nullptr || offset >= size_) return;
    const char* p = static_cast<const char*>(data_) + offset;
    const uint64_t end = n < size_ - offset ? n : size_ - offset;
    for (uint64_t at = 0; at < end; at += 64) __builtin_prefetch(p + at);
  }

  // Calls copy(bytes), bytes being the file's size() mapped bytes, and returns true; or returns
  // false when a read of the mapping faulted (the file shrank since it was mapped), `copy` then
  // stopped where it faulted. `copy` must only read the mapping and write plain memory: it may be
  // abandoned midway (no allocation, no lock, nothing with a destructor to run).
  template <typename Copy>
  bool read(Copy&& copy) const {
    sigjmp_buf jump;
    if (sigsetjmp(jump, 0) != 0) return false;  // back from the SIGBUS handler, disarmed
    fault_guard::arm(&jump, data_, size_);
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the copy stays between arm and disarm
    copy(static_cast<const char*>(data_));
    std::atomic_signal_fence(std::memory_order_seq_cst);
    fault_guard::disarm();
    return true;
  }

 private:
  void* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace bwl::io
