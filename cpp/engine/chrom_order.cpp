#include "engine/chrom_order.hpp"

#include <cctype>
#include <cstddef>

namespace bwl::engine {

int standard_chrom_rank(const std::string& name) {
  if (name.size() < 4 || name.compare(0, 3, "chr") != 0) return -1;
  const std::string rest = name.substr(3);
  if (rest == "X") return 22;
  if (rest == "Y") return 23;
  if (rest == "M") return 24;
  if (rest.empty() || rest.size() > 2 || rest[0] == '0') return -1;
  int n = 0;
  for (char c : rest) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= 22 ? n - 1 : -1;
}

namespace {

// Natural order: runs of digits compare by value (then by length, so "01" after "1"), other
// characters by byte.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      size_t is = i, js = j;  // skip leading zeros for the value comparison
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.compare(is, ie - is, b, js, je - js);
      if (c != 0) return c < 0;
      if (ie - i != je - j) return ie - i < je - j;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

bool chrom_before(const std::string& a, const std::string& b) {
  const int ra = standard_chrom_rank(a), rb = standard_chrom_rank(b);
  if (ra >= 0 || rb >= 0) {
    if (ra < 0) return false;
    if (rb < 0) return true;
    return ra < rb;
  }
  return natural_less(a, b);
}

}  // namespace bwl::engine
