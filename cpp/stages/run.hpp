#pragma once
#include <cstdint>

namespace bwl::stages {

// One stretch of constant signal as a data section stores it: `value` over bases
// [start, end) of the chromosome with id `chrom_id` (the file's own id). 16 bytes.
struct Run {
  uint32_t chrom_id;
  uint32_t start;
  uint32_t end;
  float value;
};

}  // namespace bwl::stages
