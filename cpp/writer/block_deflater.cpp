#include "writer/block_deflater.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "common/errors.hpp"

#ifdef BWL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
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

#else  // zlib

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

#endif

}  // namespace bwl::writer
