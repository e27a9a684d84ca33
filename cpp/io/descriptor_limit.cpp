#include "io/descriptor_limit.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>

namespace bwl::io {
namespace {

size_t count_open_descriptors() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;  // no /proc: count nothing, the limit check still guards
  size_t n = 0;
  while (const dirent* entry = ::readdir(d)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n > 0 ? n - 1 : 0;  // less the descriptor of the listing itself
}

size_t as_size(rlim_t v) { return v == RLIM_INFINITY ? SIZE_MAX : static_cast<size_t>(v); }

}  // namespace

DescriptorRoom make_room_for_descriptors(size_t wanted) {
  DescriptorRoom room;
  room.open = count_open_descriptors();
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return room;  // unknown: nothing to raise, nothing refused
  room.soft_limit = as_size(limit.rlim_cur);
  room.hard_limit = as_size(limit.rlim_max);
  const size_t needed = room.open + wanted + kDescriptorMargin;
  if (needed > room.soft_limit) {
    const size_t target = std::min(needed, room.hard_limit);
    struct rlimit raised = limit;
    raised.rlim_cur = static_cast<rlim_t>(target);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) room.soft_limit = target;
  }
  return room;
}

}  // namespace bwl::io
