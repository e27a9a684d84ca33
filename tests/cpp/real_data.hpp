#pragma once
// Where the project's real bigWig files are: $BWL_REAL_DATA when set (scripts/test.sh sets it,
// also for a clone that has no shared/ beside it), else the shared data beside the source tree.
#include <cstdlib>
#include <string>

namespace bwl::test {

inline std::string real_data_dir() {
  const char* dir = std::getenv("BWL_REAL_DATA");
  return dir != nullptr && *dir != '\0' ? dir : BWL_REAL_DATA_DIR;
}

}  // namespace bwl::test
