#include "fasta/usable_windows.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "common/errors.hpp"
#include "fasta/one_hot.hpp"

namespace bwl::fasta {

size_t read_usable_windows(const FastaFile& fasta, const int64_t* records, const int64_t* starts, size_t n,
                           int64_t length, double max_unknown_fraction, int64_t* kept, char* bases) {
  if (length < 0) throw InvalidArgument("length must not be negative, got " + std::to_string(length));
  const auto& all = fasta.records();
  const auto row = static_cast<size_t>(length);
  const double denominator = static_cast<double>(std::max<int64_t>(length, 1));
  size_t n_kept = 0;
  // Windows lie far apart in the file: each one's bytes come from memory, not cache. Asking for
  // a window's bytes a few windows ahead of its copy overlaps those waits.
  constexpr size_t kAhead = 2;
  auto prefetch = [&](size_t j) {
    if (j < n && records[j] >= 0 && static_cast<uint64_t>(records[j]) < all.size() && starts[j] >= 0 &&
        starts[j] <= std::numeric_limits<int64_t>::max() - length) {
      fasta.prefetch(static_cast<size_t>(records[j]), starts[j], starts[j] + length);
    }
  };
  for (size_t j = 0; j < kAhead; ++j) prefetch(j);
  for (size_t i = 0; i < n; ++i) {
    prefetch(i + kAhead);
    if (records[i] < 0 || static_cast<uint64_t>(records[i]) >= all.size()) {
      throw InvalidArgument("record id " + std::to_string(records[i]) + " is not one of the " +
                            std::to_string(all.size()) + " records of " + fasta.path());
    }
    const FastaRecord& r = all[static_cast<size_t>(records[i])];
    // start + length cannot overflow: both are at most a record's length here or rejected first.
    if (starts[i] < 0 || static_cast<uint64_t>(starts[i]) > r.length ||
        static_cast<uint64_t>(length) > r.length - static_cast<uint64_t>(starts[i])) {
      continue;
    }
    char* out = bases + n_kept * row;
    fasta.read(static_cast<size_t>(records[i]), starts[i], starts[i] + length, out);
    if (static_cast<double>(count_unknown(out, row)) / denominator > max_unknown_fraction) continue;
    kept[n_kept++] = static_cast<int64_t>(i);
  }
  return n_kept;
}

}  // namespace bwl::fasta
