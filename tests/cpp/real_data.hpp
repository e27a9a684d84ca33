#pragma once
// Where the project's real bigWig files are: $BWL_REAL_DATA when set (scripts/test.sh sets it,
// also for a clone that has no shared/ beside it), else the shared data beside the source tree.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "format/bigwig_file.hpp"

namespace bwl::test {

inline std::string real_data_dir() {
  const char* dir = std::getenv("BWL_REAL_DATA");
  return dir != nullptr && *dir != '\0' ? dir : BWL_REAL_DATA_DIR;
}

// Every bigWig file under real_data_dir() that opens (the directory holds a non-bigWig with a
// .bw name on purpose, for the error tests), in directory order.
inline std::vector<std::string> real_bigwig_paths() {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(real_data_dir())) {
    if (entry.path().extension() != ".bw") continue;
    try {
      format::BigWigFile probe(entry.path().string());
    } catch (const FormatError&) {
      continue;
    }
    paths.push_back(entry.path().string());
  }
  return paths;
}

}  // namespace bwl::test
