// libFuzzer target, differential: the project's own inflate (stages/portable_inflate.hpp, the
// one the CUDA kernels run) against zlib and libdeflate on the same bytes.
//
// Input: byte 0 picks the output capacity (so that overflow is exercised), the rest is a zlib
// stream. The references accept a stream when it ends (Z_STREAM_END / a complete stream) with
// its Adler-32 intact within the capacity; bytes after the stream's end are ignored by all three.
// Where zlib and libdeflate agree, the own inflate must agree with them: the same acceptance and,
// when accepted, the same bytes.
#include <libdeflate.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "stages/portable_inflate.hpp"

namespace {

struct Outcome {
  bool ok;
  std::vector<uint8_t> bytes;
};

Outcome with_zlib(const uint8_t* in, size_t in_size, size_t capacity) {
  Outcome o{false, std::vector<uint8_t>(capacity + 1)};
  z_stream s{};
  if (inflateInit(&s) != Z_OK) std::abort();
  s.next_in = const_cast<Bytef*>(in);
  s.avail_in = static_cast<uInt>(in_size);
  s.next_out = o.bytes.data();
  s.avail_out = static_cast<uInt>(capacity);
  const int rc = inflate(&s, Z_FINISH);
  o.ok = rc == Z_STREAM_END;
  o.bytes.resize(o.ok ? s.total_out : 0);
  inflateEnd(&s);
  return o;
}

Outcome with_libdeflate(const uint8_t* in, size_t in_size, size_t capacity) {
  static libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  Outcome o{false, std::vector<uint8_t>(capacity + 1)};
  size_t in_used = 0, out_used = 0;
  const libdeflate_result rc =
      libdeflate_zlib_decompress_ex(d, in, in_size, o.bytes.data(), capacity, &in_used, &out_used);
  o.ok = rc == LIBDEFLATE_SUCCESS;
  o.bytes.resize(o.ok ? out_used : 0);
  return o;
}

Outcome with_portable(const uint8_t* in, size_t in_size, size_t capacity) {
  static bwl::stages::InflateTables tables;
  Outcome o{false, std::vector<uint8_t>(capacity + 1)};
  const bwl::stages::InflateResult r = bwl::stages::inflate_zlib_portable(
      in, static_cast<uint32_t>(in_size), o.bytes.data(), static_cast<uint32_t>(capacity), tables);
  o.ok = r.status == bwl::stages::InflateStatus::Ok;
  o.bytes.resize(o.ok ? r.written : 0);
  return o;
}

[[noreturn]] void differ(const char* what, const Outcome& reference, const Outcome& own) {
  std::fprintf(stderr, "own inflate differs from the references: %s (references %s %zu bytes, own %s %zu bytes)\n",
               what, reference.ok ? "accept" : "reject", reference.bytes.size(), own.ok ? "accepts" : "rejects",
               own.bytes.size());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Capacities from 0 to 64 KiB: small ones overflow, large ones hold any output the fuzzer
  // can make from a few KiB.
  const size_t capacity = data[0] == 255 ? 65536 : size_t{data[0]} * 64;
  const uint8_t* in = data + 1;
  const size_t in_size = size - 1;
  const Outcome z = with_zlib(in, in_size, capacity);
  const Outcome ld = with_libdeflate(in, in_size, capacity);
  const Outcome own = with_portable(in, in_size, capacity);
  if (z.ok != ld.ok || z.bytes != ld.bytes) return 0;  // the references disagree: no oracle here
  if (own.ok != z.ok) differ("acceptance", z, own);
  if (own.bytes != z.bytes) differ("output bytes", z, own);
  return 0;
}
