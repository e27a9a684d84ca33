#pragma once
// The project's own inflate of one zlib stream (RFC 1950 wrapper around RFC 1951 Deflate),
// written once for host and device (BWL_HD): the CUDA inflate kernel runs it one stream per
// thread, and the CPU tests check it against zlib and libdeflate.
//
// Everything the stream says is checked; nothing is trusted:
//   - the 2-byte zlib header (method 8, window <= 32 KiB, check bits, no preset dictionary);
//   - stored blocks (LEN == ~NLEN, the bytes present), fixed- and dynamic-Huffman blocks
//     (code-length repeats inside the table, code 256 present, no over-subscribed codes and no
//     incomplete ones except a single 1-bit code, as zlib accepts), every length 3..258 and
//     distance 1..32768, distances never reaching before the output's first byte;
//   - the Adler-32 trailer.
// Reads never go past in + in_size (missing bits read as zero and are then reported as a
// truncated stream); writes never go past out + capacity (OutputOverflow). Every loop consumes
// input or ends, so corrupt data cannot hang it.
//
// Memory: the caller provides an InflateTables (about 2.8 KiB; in a kernel, per-thread local
// memory); nothing is allocated.
#include <cstdint>
#include <cstring>

#include "common/hd.hpp"
#include "stages/inflate_status.hpp"

namespace bwl::stages {

struct InflateResult {
  InflateStatus status;
  uint32_t written;  // bytes of output (valid when status is Ok)
};

namespace inflate_detail {

constexpr int kMaxCodeBits = 15;
constexpr int kFastBits = 9;  // codes up to this long decode with one table look-up
constexpr uint32_t kLitLenSymbols = 288;
constexpr uint32_t kDistSymbols = 32;
constexpr uint32_t kCodeLengthSymbols = 19;
constexpr uint32_t kWindowBytes = 32768;

// A canonical Huffman code: a fast table indexed by the next kFastBits input bits, and the
// per-length counts and length-ordered symbols that decode longer codes one bit at a time.
struct HuffmanCode {
  // (symbol << 4) | code length, or 0 where the next kFastBits bits start a longer code or no
  // code at all (an incomplete code's unused space).
  uint16_t fast[1u << kFastBits];
  uint16_t count[kMaxCodeBits + 1];
  uint16_t symbol[kLitLenSymbols];
};

// refill() leaves at least this many valid bits in the buffer: every step of the decoder reads
// at most this many between two refills (static_asserts below, where each step is written).
// The fast path's `bits |= 56` and `pos += (63 - bits) >> 3` are written for exactly 56.
constexpr uint32_t kRefillBits = 56;

// Bits are consumed least-significant first from a 64-bit buffer refilled up to 56+ bits.
struct BitReader {
  const uint8_t* in;
  uint32_t size;
  uint32_t pos;   // next input byte to load (counts the zero bytes loaded past the end)
  uint32_t bits;  // valid bits in buf
  uint64_t buf;

  BWL_HD void refill() {
    if (pos + 8 <= size) {
      uint64_t word;
      memcpy(&word, in + pos, sizeof word);  // little-endian hosts and devices only
      buf |= word << bits;
      pos += (63 - bits) >> 3;
      bits |= 56;
      return;
    }
    while (bits <= 56) {
      const uint64_t byte = pos < size ? in[pos] : 0;
      ++pos;
      buf |= byte << bits;
      bits += 8;
    }
  }
  // True once bits past the end of the input have been consumed (or are about to be, for the
  // up to 56 zero bits the buffer may hold).
  BWL_HD bool overran() const { return pos > size + 8; }
  BWL_HD bool consumed_past_end() const { return uint64_t{pos} * 8 - bits > uint64_t{size} * 8; }
  BWL_HD uint32_t peek(uint32_t n) const { return static_cast<uint32_t>(buf & ((uint64_t{1} << n) - 1)); }
  BWL_HD void drop(uint32_t n) {
    buf >>= n;
    bits -= n;
  }
  BWL_HD uint32_t take(uint32_t n) {
    const uint32_t v = peek(n);
    drop(n);
    return v;
  }
  // Byte position of the next unconsumed whole byte, after dropping to a byte boundary.
  BWL_HD uint32_t align_to_byte() {
    drop(bits & 7);
    return pos - bits / 8;
  }
  BWL_HD void restart_at(uint32_t byte) {
    pos = byte;
    bits = 0;
    buf = 0;
  }
};

BWL_HD inline uint32_t reverse_bits(uint32_t code, int length) {
  uint32_t r = 0;
  for (int i = 0; i < length; ++i) {
    r = (r << 1) | (code & 1);
    code >>= 1;
  }
  return r;
}

// Builds a canonical code from per-symbol lengths (0: symbol unused). Returns false for a code
// that is over-subscribed, or incomplete other than a single 1-bit code or no code at all;
// `code_lengths_code` rejects every incomplete code, as zlib does for the code-length code.
BWL_HD inline bool build_code(HuffmanCode& h, const uint8_t* lengths, uint32_t n, bool code_lengths_code) {
  for (int len = 0; len <= kMaxCodeBits; ++len) h.count[len] = 0;
  for (uint32_t s = 0; s < n; ++s) h.count[lengths[s]]++;
  h.count[0] = 0;
  int32_t left = 1;
  uint32_t used = 0;
  for (int len = 1; len <= kMaxCodeBits; ++len) {
    left = left * 2 - h.count[len];
    if (left < 0) return false;  // over-subscribed
    used += h.count[len];
  }
  if (left > 0) {
    const bool single_one_bit_code = used == 1 && h.count[1] == 1;
    if (code_lengths_code ? true : !(used == 0 || single_one_bit_code)) return false;
  }
  uint16_t offset[kMaxCodeBits + 2];
  offset[1] = 0;
  for (int len = 1; len <= kMaxCodeBits; ++len) offset[len + 1] = offset[len] + h.count[len];
  for (uint32_t s = 0; s < n; ++s) {
    if (lengths[s] != 0) h.symbol[offset[lengths[s]]++] = static_cast<uint16_t>(s);
  }
  for (uint32_t i = 0; i < (1u << kFastBits); ++i) h.fast[i] = 0;
  // Canonical codes in (length, symbol) order; the stream sends each code's bits
  // most-significant first, so the fast table is indexed by the bit-reversed code.
  uint32_t code = 0;
  uint32_t index = 0;
  for (int len = 1; len <= kFastBits; ++len) {
    for (uint32_t i = 0; i < h.count[len]; ++i, ++code, ++index) {
      const uint16_t entry = static_cast<uint16_t>((h.symbol[index] << 4) | len);
      for (uint32_t fill = reverse_bits(code, len); fill < (1u << kFastBits); fill += 1u << len) h.fast[fill] = entry;
    }
    code <<= 1;
  }
  return true;
}

// Decodes one symbol; -1 for bits that are no code. Needs kMaxCodeBits valid bits in r.
static_assert(kMaxCodeBits <= kRefillBits, "a code must decode from one refill");
BWL_HD inline int decode_symbol(BitReader& r, const HuffmanCode& h) {
  const uint16_t entry = h.fast[r.peek(kFastBits)];
  if (entry != 0) {
    r.drop(entry & 15);
    return entry >> 4;
  }
  // One bit at a time through the canonical code: codes of length `len` are the integers
  // first .. first + count[len] - 1, in symbol order.
  int32_t code = 0, first = 0, index = 0;
  for (int len = 1; len <= kMaxCodeBits; ++len) {
    code |= static_cast<int32_t>((r.buf >> (len - 1)) & 1);
    const int32_t count = h.count[len];
    if (code - first < count) {
      r.drop(static_cast<uint32_t>(len));
      return h.symbol[index + (code - first)];
    }
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -1;
}

// Length symbol 257..285 -> base length and extra bits (RFC 1951, 3.2.5).
BWL_HD inline void length_base(uint32_t sym, uint32_t& base, uint32_t& extra) {
  const uint32_t c = sym - 257;
  if (c < 8) {
    base = 3 + c;
    extra = 0;
  } else if (c == 28) {
    base = 258;
    extra = 0;
  } else {
    extra = (c - 4) / 4;
    base = ((4 + (c - 4) % 4) << extra) + 3;
  }
}

// Distance symbol 0..29 -> base distance and extra bits.
BWL_HD inline void distance_base(uint32_t sym, uint32_t& base, uint32_t& extra) {
  if (sym < 4) {
    base = sym + 1;
    extra = 0;
  } else {
    extra = (sym - 2) / 2;
    base = ((2 + sym % 2) << extra) + 1;
  }
}

BWL_HD inline uint32_t adler32(const uint8_t* data, uint32_t n) {
  constexpr uint32_t kMod = 65521;
  constexpr uint32_t kChunk = 5552;  // the most bytes before the sums can overflow 32 bits
  uint32_t a = 1, b = 0;
  while (n > 0) {
    const uint32_t chunk = n < kChunk ? n : kChunk;
    for (uint32_t i = 0; i < chunk; ++i) {
      a += data[i];
      b += a;
    }
    a %= kMod;
    b %= kMod;
    data += chunk;
    n -= chunk;
  }
  return (b << 16) | a;
}

}  // namespace inflate_detail

// What one inflate needs besides its input and output: the two codes of the current block.
struct InflateTables {
  inflate_detail::HuffmanCode litlen;
  inflate_detail::HuffmanCode dist;
};

namespace inflate_detail {

// Bit budgets of the steps below, each read from one refill (kRefillBits).
constexpr uint32_t kLengthExtraBits = 5;           // length symbols 265..284
constexpr uint32_t kDistanceExtraBits = 13;        // distance symbols 28, 29
constexpr uint32_t kBlockHeaderBits = 1 + 2;       // BFINAL, BTYPE
constexpr uint32_t kDynamicCountBits = 5 + 5 + 4;  // HLIT, HDIST, HCLEN
constexpr uint32_t kCodeLengthBits = 3;            // per code-length code length
constexpr uint32_t kCodeLengthsBeforeRefill = 9;   // read before the second refill
constexpr uint32_t kMaxCodeLengthExtraBits = 7;    // symbol 18: 11..138 zeros

// A length code with its extra bits and a distance code with its extra bits, after one refill.
static_assert(2 * kMaxCodeBits + kLengthExtraBits + kDistanceExtraBits <= kRefillBits,
              "a match must decode from one refill");
// The block header and the three counts of a dynamic block, after one refill; then up to 19
// code-length code lengths, which take two refills (19 * 3 > 56).
static_assert(kBlockHeaderBits + kDynamicCountBits <= kRefillBits, "a dynamic block header must read from one refill");
static_assert(kCodeLengthsBeforeRefill * kCodeLengthBits <= kRefillBits &&
                  (kCodeLengthSymbols - kCodeLengthsBeforeRefill) * kCodeLengthBits <= kRefillBits,
              "the code-length code lengths must read from two refills");
// One code-length symbol with its repeat count, after one refill.
static_assert(kMaxCodeBits + kMaxCodeLengthExtraBits <= kRefillBits, "a code-length symbol must read from one refill");

// The fixed codes of a BTYPE 1 block (RFC 1951, 3.2.6).
BWL_HD inline void build_fixed_codes(InflateTables& tables) {
  uint8_t lengths[kLitLenSymbols];
  for (uint32_t s = 0; s < kLitLenSymbols; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
  build_code(tables.litlen, lengths, kLitLenSymbols, false);
  for (uint32_t s = 0; s < kDistSymbols; ++s) lengths[s] = 5;
  build_code(tables.dist, lengths, kDistSymbols, false);
}

// Reads the code definitions of a BTYPE 2 block (RFC 1951, 3.2.7) into `tables`; false for a
// corrupt definition. `r` holds the bits right after the block header, from the same refill.
BWL_HD inline bool read_dynamic_codes(BitReader& r, InflateTables& tables) {
  const uint32_t n_litlen = r.take(5) + 257;
  const uint32_t n_dist = r.take(5) + 1;
  const uint32_t n_codelen = r.take(4) + 4;
  if (n_litlen > 286 || n_dist > 30) return false;
  const uint8_t order[kCodeLengthSymbols] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  uint8_t lengths[kLitLenSymbols + kDistSymbols];
  for (uint32_t i = 0; i < kCodeLengthSymbols; ++i) lengths[i] = 0;
  r.refill();
  for (uint32_t i = 0; i < n_codelen; ++i) {
    if (i == kCodeLengthsBeforeRefill) r.refill();
    lengths[order[i]] = static_cast<uint8_t>(r.take(kCodeLengthBits));
  }
  // The code-length code is built into the distance table, which is rebuilt below.
  if (!build_code(tables.dist, lengths, kCodeLengthSymbols, true)) return false;
  uint32_t n = 0;
  while (n < n_litlen + n_dist) {
    r.refill();
    if (r.overran()) return false;
    const int sym = decode_symbol(r, tables.dist);
    if (sym < 0) return false;
    if (sym < 16) {
      lengths[n++] = static_cast<uint8_t>(sym);
      continue;
    }
    uint8_t value = 0;
    uint32_t repeat;
    if (sym == 16) {
      if (n == 0) return false;  // nothing to repeat
      value = lengths[n - 1];
      repeat = 3 + r.take(2);
    } else if (sym == 17) {
      repeat = 3 + r.take(3);
    } else {
      repeat = 11 + r.take(kMaxCodeLengthExtraBits);
    }
    if (n + repeat > n_litlen + n_dist) return false;
    while (repeat--) lengths[n++] = value;
  }
  if (lengths[256] == 0) return false;  // no end-of-block code
  if (!build_code(tables.litlen, lengths, n_litlen, false)) return false;
  return build_code(tables.dist, lengths + n_litlen, n_dist, false);
}

// Decodes one Huffman block's symbols with `tables` up to its end-of-block code, appending to
// out[written, capacity). Ok, Corrupt or OutputOverflow.
BWL_HD inline InflateStatus inflate_huffman_block(BitReader& r, const InflateTables& tables, uint8_t* out,
                                                  uint32_t capacity, uint32_t& written) {
  for (;;) {
    r.refill();  // enough for a whole match: see the static_asserts above
    if (r.overran()) return InflateStatus::Corrupt;
    const int sym = decode_symbol(r, tables.litlen);
    if (sym < 0) return InflateStatus::Corrupt;
    if (sym < 256) {
      if (written == capacity) return InflateStatus::OutputOverflow;
      out[written++] = static_cast<uint8_t>(sym);
      continue;
    }
    if (sym == 256) return InflateStatus::Ok;
    if (sym > 285) return InflateStatus::Corrupt;
    uint32_t length, extra;
    length_base(static_cast<uint32_t>(sym), length, extra);
    length += r.take(extra);
    const int dsym = decode_symbol(r, tables.dist);
    if (dsym < 0 || dsym > 29) return InflateStatus::Corrupt;
    uint32_t distance;
    distance_base(static_cast<uint32_t>(dsym), distance, extra);
    distance += r.take(extra);
    if (distance > written) return InflateStatus::Corrupt;
    if (capacity - written < length) return InflateStatus::OutputOverflow;
    // Byte by byte: a match may overlap its own output (distance < length).
    const uint8_t* from = out + written - distance;
    uint8_t* to = out + written;
    for (uint32_t i = 0; i < length; ++i) to[i] = from[i];
    written += length;
  }
}

// Copies a stored (BTYPE 0) block, whose LEN/NLEN start at the next byte boundary of `r`, and
// moves `r` past it.
BWL_HD inline InflateStatus copy_stored_block(BitReader& r, const uint8_t* in, uint32_t in_size, uint8_t* out,
                                              uint32_t capacity, uint32_t& written) {
  const uint32_t at = r.align_to_byte();
  if (at > in_size || in_size - at < 4) return InflateStatus::Corrupt;
  const uint32_t len = in[at] | (uint32_t{in[at + 1]} << 8);
  const uint32_t nlen = in[at + 2] | (uint32_t{in[at + 3]} << 8);
  if ((len ^ 0xFFFFu) != nlen || in_size - at - 4 < len) return InflateStatus::Corrupt;
  if (capacity - written < len) return InflateStatus::OutputOverflow;
  memcpy(out + written, in + at + 4, len);
  written += len;
  r.restart_at(at + 4 + len);
  return InflateStatus::Ok;
}

// The Deflate core (RFC 1951): every block of the stream that `r` reads, into out[0, capacity).
BWL_HD inline InflateStatus inflate_deflate(BitReader& r, uint8_t* out, uint32_t capacity, InflateTables& tables,
                                            uint32_t& written) {
  bool last = false;
  while (!last) {
    r.refill();
    last = r.take(1) != 0;
    const uint32_t type = r.take(2);
    InflateStatus status;
    if (type == 0) {
      status = copy_stored_block(r, r.in, r.size, out, capacity, written);
    } else if (type == 3) {
      status = InflateStatus::Corrupt;
    } else {
      if (type == 1) {
        build_fixed_codes(tables);
      } else if (!read_dynamic_codes(r, tables)) {
        return InflateStatus::Corrupt;
      }
      status = inflate_huffman_block(r, tables, out, capacity, written);
    }
    if (status != InflateStatus::Ok) return status;
  }
  return r.consumed_past_end() ? InflateStatus::Corrupt : InflateStatus::Ok;
}

}  // namespace inflate_detail

// The zlib wrapper (RFC 1950): checks the 2-byte header, inflates the Deflate stream in
// in[0, in_size) into out[0, capacity), and checks the Adler-32 trailer.
BWL_HD inline InflateResult inflate_zlib_portable(const uint8_t* in, uint32_t in_size, uint8_t* out, uint32_t capacity,
                                                  InflateTables& tables) {
  using namespace inflate_detail;
  constexpr InflateResult kCorrupt{InflateStatus::Corrupt, 0};
  if (in_size < 2 + 4) return kCorrupt;
  const uint32_t cmf = in[0], flg = in[1];
  if ((cmf & 15) != 8 || (cmf >> 4) > 7 || ((cmf << 8) | flg) % 31 != 0 || (flg & 0x20) != 0) return kCorrupt;

  BitReader r{in, in_size, 2, 0, 0};
  uint32_t written = 0;
  const InflateStatus status = inflate_deflate(r, out, capacity, tables, written);
  if (status != InflateStatus::Ok) return {status, 0};
  const uint32_t at = r.align_to_byte();
  if (at > in_size || in_size - at < 4) return kCorrupt;
  const uint32_t stored =
      (uint32_t{in[at]} << 24) | (uint32_t{in[at + 1]} << 16) | (uint32_t{in[at + 2]} << 8) | in[at + 3];
  if (stored != adler32(out, written)) return kCorrupt;
  return {InflateStatus::Ok, written};
}

}  // namespace bwl::stages
