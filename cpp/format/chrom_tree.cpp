#include "format/chrom_tree.hpp"

#include <unordered_set>

#include "common/errors.hpp"
#include "format/byte_cursor.hpp"
#include "format/tree_walk.hpp"

namespace bwl::format {

namespace {

// True when `s` is well-formed UTF-8 as Python's strict decoder takes it: no overlong forms, no
// surrogates, nothing past U+10FFFF.
bool is_utf8(const std::string& s) {
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};  // by sequence length
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    uint32_t code = lead;
    if (lead >= 0x80) {
      if ((lead & 0xE0) == 0xC0) {
        len = 2, code = lead & 0x1F;
      } else if ((lead & 0xF0) == 0xE0) {
        len = 3, code = lead & 0x0F;
      } else if ((lead & 0xF8) == 0xF0) {
        len = 4, code = lead & 0x07;
      } else {
        return false;
      }
      if (i + len > s.size()) return false;
      for (size_t k = 1; k < len; ++k) {
        const auto next = static_cast<unsigned char>(s[i + k]);
        if ((next & 0xC0) != 0x80) return false;
        code = (code << 6) | (next & 0x3F);
      }
      if (code < kSmallest[len] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

std::string printable_name(const std::string& name) {
  constexpr size_t kShown = 60;
  std::string out;
  for (size_t i = 0; i < name.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == 0) {
      out += "\\0";
    } else if (c < 0x20 || c == 0x7F) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (name.size() > kShown) out += "... (" + std::to_string(name.size()) + " bytes)";
  return out;
}

std::string chrom_name_problem(const std::string& name) {
  if (name.empty()) return "a chromosome name is empty";
  if (name.size() > kMaxChromNameBytes) {
    return "chromosome name '" + printable_name(name) + "' is longer than " + std::to_string(kMaxChromNameBytes) +
           " bytes";
  }
  if (name.find('\0') != std::string::npos) return "chromosome name '" + printable_name(name) + "' contains a NUL";
  return {};
}

std::vector<ChromInfo> read_chrom_tree(const io::ByteSource& file, uint64_t offset) {
  const std::string& path = file.path();
  std::vector<uint8_t> bytes(kChromTreeHeaderBytes);
  file.read_exact(offset, kChromTreeHeaderBytes, bytes.data(), "chromosome tree header");
  ByteCursor in(bytes, offset, path, "chromosome tree header");
  const uint32_t magic = in.u32();
  if (magic != kChromTreeMagic) throw format_error(path, "corrupt chromosome tree: bad magic number", offset);
  in.skip(4);  // blockSize: the number of items a node may hold; each node states its own count
  const uint32_t key_size = in.u32();
  const uint32_t val_size = in.u32();
  const uint64_t item_count = in.u64();
  if (item_count == 0) return {};  // a file with no chromosomes: writers leave the rest unset
  if (val_size != 8) {
    throw format_error(path, "corrupt chromosome tree: value size " + std::to_string(val_size) + " (a bigWig stores 8)",
                       offset + 12);
  }
  if (key_size == 0 || key_size > kMaxChromNameBytes) {
    throw format_error(path, "corrupt chromosome tree: key size " + std::to_string(key_size), offset + 8);
  }

  // Leaves: a NUL-padded name, then (id, size); inner items: the first key below, then the child.
  const TreeShape shape{"chromosome tree", "chromosome tree node", key_size + 8, key_size + 8};
  std::vector<ChromInfo> chroms;
  std::unordered_set<std::string> names;
  std::unordered_set<uint32_t> ids;
  walk_tree(file, offset + kChromTreeHeaderBytes, shape, [&](ByteCursor& item) {
    const uint64_t item_offset = item.offset();
    const uint8_t* key = item.bytes(key_size);
    size_t len = 0;
    while (len < key_size && key[len] != 0) ++len;
    ChromInfo chrom;
    chrom.name.assign(reinterpret_cast<const char*>(key), len);
    chrom.id = item.u32();
    chrom.size = item.u32();
    if (chrom.name.empty()) throw format_error(path, "corrupt chromosome tree: empty chromosome name", item_offset);
    // Python takes names as str: bytes that are not UTF-8 text would fail there (a decode error
    // naming neither the file nor the offset); the name is left out of the message for the same reason.
    if (!is_utf8(chrom.name)) {
      throw format_error(path, "corrupt chromosome tree: a chromosome name is not UTF-8 text", item_offset);
    }
    if (!names.insert(chrom.name).second) {
      throw format_error(path, "corrupt chromosome tree: chromosome '" + chrom.name + "' listed twice", item_offset);
    }
    if (!ids.insert(chrom.id).second) {
      throw format_error(path, "corrupt chromosome tree: chromosome id " + std::to_string(chrom.id) + " used twice",
                         item_offset);
    }
    chroms.push_back(std::move(chrom));
  });
  return chroms;
}

}  // namespace bwl::format
