#pragma once
// Every block of one bigWig read, inflated and decoded: the facts `bigwig-loader info` prints
// and the problems `bigwig-loader validate` reports.
//
// The query path (decode_blocks) reads only the blocks a query needs and throws at the first bad
// one, which is right for training. A survey instead visits every full-resolution data block and
// every zoom block, and records each problem with its byte offset and goes on, so one run lists
// all that is wrong with a file.
//
// Thread contract: survey_file keeps its own scratch, so any number of threads may survey (the
// same or different files) at once.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "format/bigwig_file.hpp"

namespace bwl::format {

// One full-resolution data block. Sizes are the stored (compressed) and the inflated bytes;
// in an uncompressed file both are the stored size. A block with a problem has intact = false
// and counts only what was decoded before the problem.
struct DataBlockFacts {
  uint64_t offset = 0;
  uint64_t stored_bytes = 0;
  uint64_t inflated_bytes = 0;
  uint32_t sections = 0;
  uint32_t items = 0;
  bool intact = true;
};

// One zoom level: its reduction, its blocks and the summary records they hold (32 bytes each).
struct ZoomLevelFacts {
  uint32_t reduction_level = 0;
  uint64_t blocks = 0;
  uint64_t stored_bytes = 0;
  uint64_t inflated_bytes = 0;
  uint64_t records = 0;
};

// Something wrong with a file: where (absolute byte offset; has_offset false when the problem
// has no single place) and what.
struct Problem {
  bool has_offset = false;
  uint64_t offset = 0;
  std::string message;
};

// Indexes of DataBlockFacts-style per-type tallies: bedGraph, variableStep, fixedStep.
constexpr size_t kSectionTypes = 3;

struct FileSurvey {
  std::string path;
  bool opened = false;                                     // header, chromosome tree and index parsed
  std::vector<DataBlockFacts> blocks;                      // in file order
  std::array<uint64_t, kSectionTypes> sections_by_type{};  // bedGraph, variableStep, fixedStep
  std::array<uint64_t, kSectionTypes> items_by_type{};
  std::vector<ZoomLevelFacts> zooms;  // in header order
  std::vector<Problem> problems;      // empty when the file is intact

  bool intact() const { return problems.empty(); }
};

// Opens `path` and surveys it. A missing file throws FileNotFound (a usage error, not a property
// of the file); anything else wrong, including a header or index that does not parse (then the
// survey ends there: without the index no block can be found), is recorded in `problems`.
FileSurvey survey_file(const std::string& path);

// Surveys an already open file: every data block, then every zoom level.
FileSurvey survey_file(const BigWigFile& file);

}  // namespace bwl::format
