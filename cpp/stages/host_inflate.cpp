#include "stages/host_inflate.hpp"

#include <new>

#ifdef BWL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
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

#else  // zlib

HostInflater::HostInflater() = default;
HostInflater::~HostInflater() = default;

InflateStatus HostInflater::inflate_zlib(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity,
                                         size_t* written) {
  uLongf out_len = static_cast<uLongf>(capacity);
  uLong in_len = static_cast<uLong>(in_size);
  const int r = uncompress2(out, &out_len, in, &in_len);
  if (r == Z_OK) {
    *written = out_len;
    return InflateStatus::Ok;
  }
  if (r == Z_BUF_ERROR && out_len == capacity) return InflateStatus::OutputOverflow;
  return InflateStatus::Corrupt;
}

#endif

}  // namespace bwl::stages
