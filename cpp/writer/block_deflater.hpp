#pragma once
// Compresses one block into a zlib stream (what BBI readers inflate): libdeflate when the build
// found it, else zlib, else stored (uncompressed) Deflate blocks, which every reader inflates
// (CMake says which, as for inflate).
//
// Thread contract: one BlockDeflater per thread (libdeflate's compressor holds its tables);
// it allocates in its constructor and when `out` must grow.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bwl::writer {

class BlockDeflater {
 public:
  // The compression levels a writer takes, whatever the backend: 1 (fastest) to 12 (smallest).
  static constexpr int kMinLevel = 1, kMaxLevel = 12;
  // Throws InvalidArgument naming compression_level outside [kMinLevel, kMaxLevel]. zlib's
  // scale ends at 9: there 10 to 12 compress as 9 (said in the writer's documentation).
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
