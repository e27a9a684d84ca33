#pragma once
// A search of a sorted array that starts from a guess: for arrays larger than the CPU caches
// (a cached block's runs, a chromosome's block extents), what costs is each probe's cache miss,
// and near a good guess the probes fall on neighbouring lines, where a plain binary search of a
// thousand elements misses about ten times.
#include <algorithm>
#include <cstddef>

namespace bwl {

// The first element of [first, first + n) for which `before` is false (first + n when none),
// as std::partition_point (`before` must be true for a prefix and false after it), searched
// outward from `hint`: one or two steps, then doubling, then a binary search of what is left.
// Any hint gives the same answer.
template <typename T, typename Before>
const T* gallop(const T* first, size_t n, size_t hint, Before before) {
  size_t lo = 0, hi = n;  // the answer lies in [lo, hi]
  if (hint < n && before(first[hint])) {
    lo = hint + 1;
    for (size_t step = 1;; step *= 2) {
      const size_t probe = lo + step - 1;
      if (probe >= n) break;
      if (!before(first[probe])) {
        hi = probe;
        break;
      }
      lo = probe + 1;
    }
  } else {
    hi = std::min(hint, n);
    for (size_t step = 1;; step *= 2) {
      if (hi < step) break;
      const size_t probe = hi - step;
      if (before(first[probe])) {
        lo = probe + 1;
        break;
      }
      hi = probe;
    }
  }
  return std::partition_point(first + lo, first + hi, before);
}

}  // namespace bwl
