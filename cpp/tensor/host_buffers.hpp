#pragma once
// Host memory for tensors, recycled. A training loop makes tensors of the same few sizes on every
// batch (values, one-hot sequences); multi-megabyte blocks fresh from the system come as new
// pages, each faulted in and zeroed by the kernel on first touch and unmapped again on release.
// At 4 tracks that was 40% of a warm epoch's CPU time. Released buffers of kMinRecycledBytes or
// more are kept, up to kMaxIdleBytes and kMaxIdleBuffers in all (the oldest freed first to make
// room), and handed out again for a request of the same size; smaller ones go to and from
// malloc. Not malloc for a page or more: while the block cache grows, its entries (malloc'd, kept)
// take the memory a released batch leaves, and the next batch's comes fresh from the system
// again (never-seen windows, 16 tracks x 1 kb, batch 1: 16 faults a batch in the fill, a third of
// what the cache cost).
//
// Threads: any thread may allocate, and any thread may release (a DLPack consumer frees a tensor
// on its own thread); one mutex guards the idle list, taken twice per tensor, never while
// copying or filling.
#include <cstddef>
#include <memory>

namespace bwl {

constexpr size_t kHostBufferAlign = 64;
// Buffers of at least this size are backed by transparent huge pages where the system offers
// them (host_buffers.cpp: fresh_buffer).
constexpr size_t kHugePageBytes = size_t{2} << 20;
constexpr size_t kMinRecycledBytes = size_t{4} << 10;
// Idle buffers held at most: a few batches of any usual shape, a bound on the memory kept, and on
// the list a request searches.
constexpr size_t kMaxIdleBytes = size_t{64} << 20;
constexpr size_t kMaxIdleBuffers = 64;
// A released buffer larger than this (a quarter of the idle bound) is kept "lazily freed"
// (madvise MADV_FREE) instead of idle: the kernel takes its pages back when it needs memory, and
// a buffer of the same size asked for before then is handed out without faults or zeroing (until
// the kernel takes them, the pages count in the process's RSS). On the idle list such a buffer
// would make the others leave to fit, or leave itself to fit a small one, as shapes alternate,
// and it is the costliest to make again: a 64 MiB batch released next to 1 MiB ones was made
// afresh every time (4 tracks x 4,096 windows between batches of 64: 145k -> 470k windows/s).
constexpr size_t kMaxIdleBufferBytes = kMaxIdleBytes / 4;
// Lazily freed buffers kept at most, the oldest freed first (a training loop alternates between
// the batch in use and the next, of values and of sequences), and at most a quarter of the
// machine's memory; none where the kernel refuses MADV_FREE.
constexpr size_t kMaxLazyBuffers = 4;
// The idle list can always make room for a buffer it takes (host_buffers.cpp: keep_idle).
static_assert(kMaxIdleBufferBytes <= kMaxIdleBytes && kMaxIdleBuffers >= 1, "an idle buffer must fit the idle list");

// `bytes` (at least 1) of host memory aligned to kHostBufferAlign, uninitialised; released to the
// recycling list when the last owner lets go. Throws std::bad_alloc when the system has none.
std::shared_ptr<void> allocate_host_buffer(size_t bytes);

// Bytes held idle for reuse now (for tests and for memory accounting), and the number of lazily
// freed buffers kept (for tests).
size_t idle_host_buffer_bytes();
size_t lazily_freed_host_buffers();

}  // namespace bwl
