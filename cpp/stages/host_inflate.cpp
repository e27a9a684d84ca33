#include "stages/host_inflate.hpp"

#include <new>

#include <algorithm>
#include <cstdint>

#ifdef BWL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include "stages/portable_inflate.hpp"
#endif

namespace bwl::stages {

const char* HostInflater::backend_name() { return BWL_INFLATE_BACKEND; }

#ifdef BWL_HAVE_LIBDEFLATE

HostInflater::HostInflater() : decompressor_(libdeflate_alloc_decompressor()) {
  if (decompressor_ == nullptr) throw std::bad_alloc();
}

HostInflater::~HostInflater() { libdeflate_free_decompressor(static_cast<libdeflate_decompressor*>(decompressor_)); }

InflateStatus HostInflater::inflate_zlib(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity,
                                         size_t* written) {
  const libdeflate_result r = libdeflate_zlib_decompress(static_cast<libdeflate_decompressor*>(decompressor_), in,
                                                         in_size, out, capacity, written);
  if (r == LIBDEFLATE_SUCCESS) return InflateStatus::Ok;
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE) return InflateStatus::OutputOverflow;
  return InflateStatus::Corrupt;
}

#else  // the project's own inflate (stages/portable_inflate.hpp)

HostInflater::HostInflater() : decompressor_(new InflateTables) {}

HostInflater::~HostInflater() { delete static_cast<InflateTables*>(decompressor_); }

InflateStatus HostInflater::inflate_zlib(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity,
                                         size_t* written) {
  // The portable inflate counts in 32 bits: a bigWig block (at most uncompressBufSize, itself a
  // 32-bit field) always fits; a larger input cannot be a valid block.
  if (in_size > UINT32_MAX) return InflateStatus::Corrupt;
  const InflateResult r = inflate_zlib_portable(in, static_cast<uint32_t>(in_size), out,
                                                static_cast<uint32_t>(std::min<size_t>(capacity, UINT32_MAX)),
                                                *static_cast<InflateTables*>(decompressor_));
  *written = r.written;
  return r.status;
}

#endif

}  // namespace bwl::stages
