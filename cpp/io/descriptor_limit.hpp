#pragma once
// The process's limit on open file descriptors (RLIMIT_NOFILE). A collection keeps one descriptor
// per bigWig open, and Enformer-scale training reads thousands of files, while a common default
// soft limit is 1,024: the soft limit may be raised up to the hard one by any process, without
// privileges, so the collection raises it as far as it needs before opening its files.
#include <cstddef>
#include <string>

namespace bwl::io {

struct DescriptorRoom {
  size_t open = 0;        // descriptors this process has open now
  size_t soft_limit = 0;  // after raising it where that was needed and allowed
  size_t hard_limit = 0;
  bool enough = true;  // whether `wanted` more fit under the (raised) soft limit
};

// Makes room for `wanted` more descriptors (plus a margin for what else the process opens):
// raises the soft limit as far as needed, never beyond the hard limit and never lowering it.
DescriptorRoom make_room_for_descriptors(size_t wanted);

// "N files need N descriptors; ..." for a collection that cannot open them all.
std::string descriptor_shortage_message(size_t files, const DescriptorRoom& room);

}  // namespace bwl::io
