#pragma once
// The training windows fit to use: a dataset draws window starts and keeps only those lying
// inside their sequence with few enough unknown bases. Reading the bases and judging them in one
// call (per draw of hundreds of windows, the GIL released) keeps the loader's feeder thread,
// which forms every batch, off the Python interpreter.
#include <cstddef>
#include <cstdint>

#include "fasta/fasta_file.hpp"

namespace bwl::fasta {

// For each window i (record records[i], bases [starts[i], starts[i] + length)): skips it when it
// does not lie inside its record or when more than `max_unknown_fraction` of its bases are not
// A, C, G or T (either case; the fraction is unknown / length as a double, as Python computes
// it); else appends i to `kept` and its bases as the next row of `bases`. `kept` and `bases`
// have room for `capacity` windows: those inside their records (count_windows_inside) suffice.
// Returns how many were kept, in order. Throws InvalidArgument for a record id outside
// fasta.records(), a negative length, a fraction outside [0, 1] (NaN included: it would keep
// every window), or more windows inside than `capacity` (the arrays changed since they were
// counted); FormatError when the file has shrunk under the reads.
size_t read_usable_windows(const FastaFile& fasta, const int64_t* records, const int64_t* starts, size_t n,
                           int64_t length, double max_unknown_fraction, int64_t* kept, char* bases, size_t capacity);

// How many of the windows lie inside their records: the rows read_usable_windows may fill, so
// that a caller allocates for those and not for windows that cannot fit (a length longer than
// every record). Throws as read_usable_windows for a bad record id or length.
size_t count_windows_inside(const FastaFile& fasta, const int64_t* records, const int64_t* starts, size_t n,
                            int64_t length);

}  // namespace bwl::fasta
