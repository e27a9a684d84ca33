#pragma once
// Writes Deflate streams symbol by symbol (stored and fixed-Huffman blocks), so the inflate
// tests can hold cases that compressors rarely emit: a match at distance 32768, lengths 3 and
// 258 side by side, empty blocks, overlapping copies. zlib checks every stream this writes
// before the project's inflate sees it.
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace bwl::test {

class DeflateWriter {
 public:
  // Starts a zlib stream: CMF 0x78 (Deflate, 32 KiB window) and FLG 0x9C (check bits).
  DeflateWriter() {
    out_.push_back(0x78);
    out_.push_back(0x9C);
  }

  void stored_block(const std::vector<uint8_t>& bytes, bool last) {
    if (bytes.size() > 0xFFFF) throw std::invalid_argument("stored block over 65535 bytes");
    bits(last ? 1 : 0, 1);
    bits(0, 2);
    flush_to_byte();
    const uint32_t len = static_cast<uint32_t>(bytes.size());
    for (uint32_t v : {len & 0xFF, len >> 8, (~len) & 0xFF, ((~len) >> 8) & 0xFF})
      out_.push_back(static_cast<uint8_t>(v));
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    plain_.insert(plain_.end(), bytes.begin(), bytes.end());
  }

  void begin_fixed_block(bool last) {
    bits(last ? 1 : 0, 1);
    bits(1, 2);
  }
  void literal(uint8_t byte) {
    fixed_litlen(byte);
    plain_.push_back(byte);
  }
  // A back-reference; the writer checks it against what it has written.
  void match(uint32_t length, uint32_t distance) {
    if (length < 3 || length > 258 || distance < 1 || distance > 32768 || distance > plain_.size()) {
      throw std::invalid_argument("match outside Deflate's limits or before the start");
    }
    uint32_t sym = 285, base = 258, extra = 0;
    if (length < 258) {
      for (sym = 257; sym < 285; ++sym) {
        uint32_t b, e;
        length_code(sym, b, e);
        if (length >= b && length < b + (1u << e)) {
          base = b;
          extra = e;
          break;
        }
      }
    }
    fixed_litlen(sym);
    bits(length - base, extra);
    for (uint32_t d = 0; d < 30; ++d) {
      uint32_t b, e;
      distance_code(d, b, e);
      if (distance >= b && distance < b + (1u << e)) {
        bits(reverse(d, 5), 5);
        bits(distance - b, e);
        break;
      }
    }
    for (uint32_t i = 0; i < length; ++i) plain_.push_back(plain_[plain_.size() - distance]);
  }
  void end_fixed_block() { fixed_litlen(256); }

  // The finished zlib stream (the Adler-32 trailer appended); `plain()` is what it inflates to.
  std::vector<uint8_t> finish() {
    flush_to_byte();
    const uint32_t adler = static_cast<uint32_t>(::adler32(1, plain_.data(), static_cast<uInt>(plain_.size())));
    for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(adler >> s));
    return out_;
  }
  const std::vector<uint8_t>& plain() const { return plain_; }

 private:
  static uint32_t reverse(uint32_t code, int n) {
    uint32_t r = 0;
    for (int i = 0; i < n; ++i, code >>= 1) r = (r << 1) | (code & 1);
    return r;
  }
  static void length_code(uint32_t sym, uint32_t& base, uint32_t& extra) {
    static const uint16_t kBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                       31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const uint8_t kExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    base = kBase[sym - 257];
    extra = kExtra[sym - 257];
  }
  static void distance_code(uint32_t d, uint32_t& base, uint32_t& extra) {
    static const uint16_t kBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                       33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    base = kBase[d];
    extra = d < 4 ? 0 : (d - 2) / 2;
  }
  // Fixed literal/length code (RFC 1951, 3.2.6), sent most-significant bit first.
  void fixed_litlen(uint32_t sym) {
    if (sym < 144)
      bits(reverse(0x30 + sym, 8), 8);
    else if (sym < 256)
      bits(reverse(0x190 + sym - 144, 9), 9);
    else if (sym < 280)
      bits(reverse(sym - 256, 7), 7);
    else
      bits(reverse(0xC0 + sym - 280, 8), 8);
  }
  void bits(uint32_t value, int n) {
    for (int i = 0; i < n; ++i) {
      acc_ |= ((value >> i) & 1u) << n_acc_;
      if (++n_acc_ == 8) {
        out_.push_back(static_cast<uint8_t>(acc_));
        acc_ = 0;
        n_acc_ = 0;
      }
    }
  }
  void flush_to_byte() {
    if (n_acc_ > 0) {
      out_.push_back(static_cast<uint8_t>(acc_));
      acc_ = 0;
      n_acc_ = 0;
    }
  }

  std::vector<uint8_t> out_;
  std::vector<uint8_t> plain_;
  uint32_t acc_ = 0;
  int n_acc_ = 0;
};

}  // namespace bwl::test
