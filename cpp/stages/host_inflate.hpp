#pragma once
// Host-side inflate of one zlib stream (a compressed BigWig block) with libdeflate, or where the
// build found no libdeflate with the project's own inflate (stages/portable_inflate.hpp, compiled
// for host and device; about half libdeflate's speed). CMake says which.
//
// Thread contract: one HostInflater must not be used by two threads at once (libdeflate's
// decompressor holds tables); keep one per worker. It allocates only in its constructor.
#include <cstddef>
#include <cstdint>

#include "stages/inflate_status.hpp"

namespace bwl::stages {

class HostInflater {
 public:
  HostInflater();
  ~HostInflater();
  HostInflater(const HostInflater&) = delete;
  HostInflater& operator=(const HostInflater&) = delete;

  // Inflates the zlib stream in[0, in_size) into out[0, capacity); sets *written on success.
  InflateStatus inflate_zlib(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* written);

  // "libdeflate" or "portable".
  static const char* backend_name();

 private:
  void* decompressor_ = nullptr;  // struct libdeflate_decompressor*, or the portable inflate's tables
};

}  // namespace bwl::stages
