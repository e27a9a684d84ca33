#pragma once
// A bounds-checked little-endian cursor over bytes read from a file, for the host-side
// parsers (header, trees). Every read past the end throws a FormatError naming the file and
// the absolute byte offset where the structure ran out.
#include <cstdint>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/little_endian.hpp"

namespace bwl::format {

class ByteCursor {
 public:
  // `bytes` were read from `path` at absolute offset `base_offset`; `what` names the structure.
  ByteCursor(const std::vector<uint8_t>& bytes, uint64_t base_offset, const std::string& path, const char* what)
      : data_(bytes.data()), size_(bytes.size()), base_(base_offset), path_(path), what_(what) {}

  uint64_t offset() const { return base_ + pos_; }

  uint8_t u8() { return *take(1); }
  uint16_t u16() { return load_u16le(take(2)); }
  uint32_t u32() { return load_u32le(take(4)); }
  uint64_t u64() { return load_u64le(take(8)); }
  double f64() { return load_f64le(take(8)); }
  const uint8_t* bytes(size_t n) { return take(n); }
  void skip(size_t n) { take(n); }

 private:
  const uint8_t* take(size_t n) {
    if (n > size_ - pos_) {
      throw format_error(path_, std::string("truncated ") + what_, base_ + pos_);
    }
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  uint64_t base_;
  const std::string& path_;
  const char* what_;
};

}  // namespace bwl::format
