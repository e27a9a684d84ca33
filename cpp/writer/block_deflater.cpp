#include "writer/block_deflater.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "common/errors.hpp"

#ifdef BWL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#elif defined(BWL_HAVE_ZLIB)
#include <zlib.h>
#else
#include "stages/portable_inflate.hpp"  // adler32, the zlib stream's checksum
#endif

namespace bwl::writer {
namespace {

int checked_level(int level) {
  if (level < BlockDeflater::kMinLevel || level > BlockDeflater::kMaxLevel) {
    throw InvalidArgument("compression_level must be " + std::to_string(BlockDeflater::kMinLevel) + " (fastest) to " +
                          std::to_string(BlockDeflater::kMaxLevel) + " (smallest), got " + std::to_string(level));
  }
  return level;
}

}  // namespace

#ifdef BWL_HAVE_LIBDEFLATE

const char* BlockDeflater::backend_name() { return "libdeflate"; }

BlockDeflater::BlockDeflater(int level) : level_(checked_level(level)) {
  compressor_ = libdeflate_alloc_compressor(level_);
  if (compressor_ == nullptr) throw std::bad_alloc();
}

BlockDeflater::~BlockDeflater() { libdeflate_free_compressor(static_cast<libdeflate_compressor*>(compressor_)); }

void BlockDeflater::compress(const uint8_t* in, size_t size, std::vector<uint8_t>& out) {
  auto* c = static_cast<libdeflate_compressor*>(compressor_);
  out.resize(libdeflate_zlib_compress_bound(c, size));
  const size_t n = libdeflate_zlib_compress(c, in, size, out.data(), out.size());
  // The bound is a guarantee: 0 here is a libdeflate bug, not bad input.
  if (n == 0) throw Error("libdeflate could not compress a block within its own bound");
  out.resize(n);
}

#elif defined(BWL_HAVE_ZLIB)

const char* BlockDeflater::backend_name() { return "zlib"; }

BlockDeflater::BlockDeflater(int level) : level_(std::min(checked_level(level), 9)) {}
BlockDeflater::~BlockDeflater() = default;

void BlockDeflater::compress(const uint8_t* in, size_t size, std::vector<uint8_t>& out) {
  uLongf n = compressBound(static_cast<uLong>(size));
  out.resize(n);
  if (compress2(out.data(), &n, in, static_cast<uLong>(size), level_) != Z_OK)
    throw Error("zlib could not compress a block");
  out.resize(n);
}

#else  // no compression library at build time: stored blocks

const char* BlockDeflater::backend_name() { return "stored"; }

BlockDeflater::BlockDeflater(int level) : level_(checked_level(level)) {}
BlockDeflater::~BlockDeflater() = default;

// A zlib stream (RFC 1950) whose Deflate data (RFC 1951) is stored blocks of up to 65,535 bytes:
// every reader inflates it; nothing is compressed (the level does not apply).
void BlockDeflater::compress(const uint8_t* in, size_t size, std::vector<uint8_t>& out) {
  constexpr size_t kStoredMax = 65535;
  out.clear();
  out.reserve(2 + size + 5 * (size / kStoredMax + 1) + 4);
  out.push_back(0x78);  // CM 8 (Deflate), 32 KiB window
  out.push_back(0x01);  // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0
  size_t at = 0;
  do {
    const size_t n = std::min(kStoredMax, size - at);
    const bool last = at + n == size;
    out.push_back(last ? 1 : 0);  // BFINAL, BTYPE 00 (stored); the rest of the byte is padding
    out.push_back(static_cast<uint8_t>(n & 0xFF));
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(~n & 0xFF));
    out.push_back(static_cast<uint8_t>((~n >> 8) & 0xFF));
    out.insert(out.end(), in + at, in + at + n);
    at += n;
  } while (at < size);
  const uint32_t check = stages::inflate_detail::adler32(in, static_cast<uint32_t>(size));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(check >> shift));
}

#endif

}  // namespace bwl::writer
