#include "fasta/one_hot.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "stages/window_fill.hpp"

namespace bwl::fasta {
namespace {

using Table = std::array<std::array<float, 4>, 256>;

Table make_table() {
  Table t{};
  auto set = [&](char c, float a, float cc, float g, float tt) {
    t[static_cast<unsigned char>(c)] = {a, cc, g, tt};
    t[static_cast<unsigned char>(std::tolower(c))] = {a, cc, g, tt};
  };
  const float h = 0.5f, third = 0.333f, q = 0.25f;
  set('A', 1, 0, 0, 0);
  set('C', 0, 1, 0, 0);
  set('G', 0, 0, 1, 0);
  set('T', 0, 0, 0, 1);
  set('R', h, 0, h, 0);
  set('Y', 0, h, 0, h);
  set('K', 0, 0, h, h);
  set('M', h, h, 0, 0);
  set('S', 0, h, h, 0);
  set('W', h, 0, 0, h);
  set('B', 0, third, third, third);
  set('D', third, 0, third, third);
  set('H', third, third, 0, third);
  set('V', third, third, third, 0);
  set('N', q, q, q, q);
  return t;
}

const Table& table() {
  static const Table t = make_table();
  return t;
}

// Outputs of at least this many bytes are written with non-temporal ("streaming") stores: a
// batch's one-hot (2 MiB for 64 x 2 kb) is larger than the caches and is read by the consumer
// only later, so ordinary stores would first read every line of it from memory (the
// write-allocate) and then evict it again; streaming stores write each line once (4 tracks,
// 2 CPUs: a warm ChromBPNet epoch 10% faster). Small outputs are likely read at once: cached.
// (The values' tile stores stream too, from 4 MiB: cpu/cpu_batch_processor.cpp.)
constexpr size_t kStreamingBytes = size_t{1} << 20;

// Float32 one-hot with streaming stores, one 16-byte store per base (its four channels).
// Returns false, writing nothing, where they are not used: an output smaller than
// kStreamingBytes, `out` not 16-byte aligned, or no SSE2.
bool encode_float32_streaming(const Table& t, const char* bases, size_t n, float* out) {
#if defined(__SSE2__)
  if (n * 16 < kStreamingBytes || reinterpret_cast<uintptr_t>(out) % 16 != 0) return false;
  for (size_t i = 0; i < n; ++i) {
    _mm_stream_ps(out + 4 * i, _mm_loadu_ps(t[static_cast<unsigned char>(bases[i])].data()));
  }
  _mm_sfence();  // streaming stores are weakly ordered: complete them before the tensor is handed on
  return true;
#else
  (void)t, (void)bases, (void)n, (void)out;
  return false;
#endif
}

}  // namespace

void encode_one_hot(const char* bases, size_t n, DType dtype, void* out) {
  const Table& t = table();
  switch (dtype) {
    case DType::Float32: {
      auto* dst = static_cast<float*>(out);
      if (encode_float32_streaming(t, bases, n, dst)) break;
      for (size_t i = 0; i < n; ++i) std::memcpy(dst + 4 * i, t[static_cast<unsigned char>(bases[i])].data(), 16);
      break;
    }
    case DType::BFloat16: {
      auto* dst = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) {
        const float* w = t[static_cast<unsigned char>(bases[i])].data();
        for (int c = 0; c < 4; ++c) dst[4 * i + c] = stages::to_bfloat16(w[c]);
      }
      break;
    }
    case DType::UInt8: {
      auto* dst = static_cast<uint8_t*>(out);
      for (size_t i = 0; i < n; ++i) {
        const float* w = t[static_cast<unsigned char>(bases[i])].data();
        for (int c = 0; c < 4; ++c) dst[4 * i + c] = w[c] == 1.0f ? 1 : 0;
      }
      break;
    }
  }
}

std::shared_ptr<HostTensor> one_hot_rows(const uint8_t* bases, size_t batch, int64_t length, DType dtype) {
  auto tensor = std::make_shared<HostTensor>(std::vector<int64_t>{static_cast<int64_t>(batch), length, 4}, dtype);
  encode_one_hot(reinterpret_cast<const char*>(bases), batch * static_cast<size_t>(length), dtype, tensor->data());
  return tensor;
}

size_t count_unknown(const char* bases, size_t n) {
  // is_acgt on 16 bytes at once (GCC/Clang vector extensions: SSE2 on x86-64, NEON on arm64):
  // 0.05 ns a base. A byte-table lookup does not vectorize (0.5 ns a base), nor did any scalar
  // form of the comparisons with GCC 12, and a chain of branches mispredicts on real sequence
  // (4 ns a base).
  typedef unsigned char Bytes16 __attribute__((vector_size(16)));
  const auto* p = reinterpret_cast<const unsigned char*>(bases);
  size_t known = 0;
  size_t at = 0;
  while (at + 16 <= n) {
    Bytes16 lanes = {};  // known bases per lane: at most 255 rounds before they are added up
    for (int round = 0; round < 255 && at + 16 <= n; ++round, at += 16) {
      Bytes16 b;
      std::memcpy(&b, p + at, 16);
      b &= 0xDF;  // to upper case, as is_acgt
      lanes -= reinterpret_cast<Bytes16>((b == 'A') | (b == 'C') | (b == 'G') | (b == 'T'));  // true: -1
    }
    for (int lane = 0; lane < 16; ++lane) known += lanes[lane];
  }
  for (; at < n; ++at) known += is_acgt(p[at]);
  return n - known;
}

}  // namespace bwl::fasta
