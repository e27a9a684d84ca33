#pragma once
// Where the project's real bigWig files are: $BWL_REAL_DATA when set, else the shared data beside
// the source tree. scripts/test.sh sets it: to the shared data, or in a clone without them to the
// test corpus of stand-ins it writes (python tests/python/corpus.py DIR).
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
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
  const std::string dir = real_data_dir();
  if (!std::filesystem::is_directory(dir)) {  // say how to get them, not only that a directory is missing
    throw std::runtime_error("no real test files in " + dir +
                             ": set BWL_REAL_DATA to the shared real data or to a test corpus"
                             " (python tests/python/corpus.py DIR writes one; scripts/test.sh does both)");
  }
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
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
