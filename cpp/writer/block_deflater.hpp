#pragma once
// Compresses one block into a zlib stream (what BBI readers inflate): libdeflate when the build
// found it, zlib otherwise (CMake says which, as for inflate).
//
// Thread contract: one BlockDeflater per thread (libdeflate's compressor holds its tables);
// it allocates in its constructor and when `out` must grow.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bwl::writer {

class BlockDeflater {
 public:
  // level: 1 (fastest) .. 12 with libdeflate, .. 9 with zlib (higher is clamped).
  explicit BlockDeflater(int level);
  ~BlockDeflater();
  BlockDeflater(const BlockDeflater&) = delete;
  BlockDeflater& operator=(const BlockDeflater&) = delete;

  // Replaces `out` with the zlib stream of in[0, size).
  void compress(const uint8_t* in, size_t size, std::vector<uint8_t>& out);

  static const char* backend_name();

 private:
  int level_;
  void* compressor_ = nullptr;  // struct libdeflate_compressor*, or unused with zlib
};

}  // namespace bwl::writer
