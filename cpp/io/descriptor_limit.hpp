#pragma once
// The process's limit on open file descriptors (RLIMIT_NOFILE). A collection keeps one descriptor
// per bigWig open, and Enformer-scale training reads thousands of files, while a common default
// soft limit is 1,024: the soft limit may be raised up to the hard one by any process, without
// privileges, so the collection raises it as far as it needs before opening its files. Beyond the
// hard limit, io::DescriptorPool keeps only as many files open as it leaves.
#include <cstddef>
#include <string>

namespace bwl::io {

// Descriptors the rest of the process may want while files are open (Python, torch, pipes,
// sockets, the FASTA): never counted on for the files.
constexpr size_t kDescriptorMargin = 64;

struct DescriptorRoom {
  size_t open = 0;        // descriptors this process has open now
  size_t soft_limit = 0;  // after raising it where that was needed and allowed (0: unknown)
  size_t hard_limit = 0;
};

// Makes room for `wanted` more descriptors (plus the margin): raises the soft limit as far as
// needed, never beyond the hard limit and never lowering it. What does not fit is the
// DescriptorPool's to handle (it keeps fewer files open and reopens as needed).
DescriptorRoom make_room_for_descriptors(size_t wanted);

}  // namespace bwl::io
