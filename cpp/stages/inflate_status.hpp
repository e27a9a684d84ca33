#pragma once
// The outcome of inflating one zlib stream, shared by the host inflate (libdeflate/zlib) and the
// project's own inflate that the CUDA kernels run.
#include <cstdint>

#include "common/hd.hpp"

namespace bwl::stages {

enum class InflateStatus : uint8_t {
  Ok = 0,
  Corrupt,         // not a valid zlib stream (bad header, bad data, bad checksum, truncated)
  OutputOverflow,  // inflates to more than the output capacity
};

BWL_HD inline const char* describe(InflateStatus status) {
  switch (status) {
    case InflateStatus::Ok: return "ok";
    case InflateStatus::Corrupt: return "corrupt compressed data";
    case InflateStatus::OutputOverflow: return "inflates past uncompressBufSize";
  }
  return "unknown inflate status";
}

}  // namespace bwl::stages
