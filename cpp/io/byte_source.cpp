#include "io/byte_source.hpp"

#include "common/errors.hpp"

namespace bwl::io {

void ByteSource::check_range(uint64_t offset, uint64_t length, const char* what) const {
  if (offset > size_ || length > size_ - offset) {
    throw format_error(path_,
                       std::string("truncated: ") + what + " of " + std::to_string(length) +
                           " bytes runs past the end of the file (" + std::to_string(size_) + " bytes)",
                       offset);
  }
}

}  // namespace bwl::io
