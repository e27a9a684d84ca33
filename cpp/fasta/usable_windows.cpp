#include "fasta/usable_windows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/errors.hpp"
#include "fasta/one_hot.hpp"

namespace bwl::fasta {
namespace {

void check_arguments(int64_t length, double max_unknown_fraction) {
  if (length < 0) throw InvalidArgument("length must not be negative, got " + std::to_string(length));
  if (!(max_unknown_fraction >= 0.0 && max_unknown_fraction <= 1.0)) {  // NaN too
    throw InvalidArgument("max_unknown_fraction must be a number in [0, 1], got " +
                          std::to_string(max_unknown_fraction));
  }
}

// The record of window i, checked against the file (read once: the caller's array is not ours).
const FastaRecord& record_of(const FastaFile& fasta, int64_t id) {
  const auto& all = fasta.records();
  if (id < 0 || static_cast<uint64_t>(id) >= all.size()) {
    throw InvalidArgument("record id " + std::to_string(id) + " is not one of the " + std::to_string(all.size()) +
                          " records of " + fasta.path());
  }
  return all[static_cast<size_t>(id)];
}

// Whether [start, start + length) lies inside `r`; no overflow whatever the start.
bool inside(const FastaRecord& r, int64_t start, int64_t length) {
  return start >= 0 && static_cast<uint64_t>(start) <= r.length &&
         static_cast<uint64_t>(length) <= r.length - static_cast<uint64_t>(start);
}

}  // namespace

size_t count_windows_inside(const FastaFile& fasta, const int64_t* records, const int64_t* starts, size_t n,
                            int64_t length) {
  if (length < 0) throw InvalidArgument("length must not be negative, got " + std::to_string(length));
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += inside(record_of(fasta, records[i]), starts[i], length) ? 1 : 0;
  return count;
}

size_t read_usable_windows(const FastaFile& fasta, const int64_t* records, const int64_t* starts, size_t n,
                           int64_t length, double max_unknown_fraction, int64_t* kept, char* bases, size_t capacity) {
  check_arguments(length, max_unknown_fraction);
  const auto row = static_cast<size_t>(length);
  const double denominator = static_cast<double>(std::max<int64_t>(length, 1));
  // Windows lie far apart in the file: each one's bytes come from memory, not cache. Asking for
  // a window's bytes a few windows ahead of its copy overlaps those waits.
  constexpr size_t kAhead = 2;
  auto prefetch = [&](size_t j) {
    if (j >= n) return;
    // FastaFile::prefetch ignores what is not a range of a record; only the end may not overflow.
    const int64_t id = records[j], start = starts[j];
    if (id >= 0 && start <= std::numeric_limits<int64_t>::max() - length) {
      fasta.prefetch(static_cast<size_t>(id), start, start + length);
    }
  };
  for (size_t j = 0; j < kAhead; ++j) prefetch(j);
  size_t n_kept = 0;
  for (size_t i = 0; i < n; ++i) {
    prefetch(i + kAhead);
    const int64_t id = records[i], start = starts[i];
    if (!inside(record_of(fasta, id), start, length)) continue;
    if (n_kept == capacity)
      throw InvalidArgument("more windows inside their records than counted: records or starts changed");
    char* out = bases + n_kept * row;
    fasta.read(static_cast<size_t>(id), start, start + length, out);
    if (static_cast<double>(count_unknown(out, row)) / denominator > max_unknown_fraction) continue;
    kept[n_kept++] = static_cast<int64_t>(i);
  }
  return n_kept;
}

}  // namespace bwl::fasta
