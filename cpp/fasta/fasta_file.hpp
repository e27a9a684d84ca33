#pragma once
// An indexed FASTA file: the samtools .fai index (read when present, not older than the FASTA
// and matching it at each record's first line and last base; else built by one scan and written
// beside it when the directory is writable), and
// reads of any base range from a memory map of the file (io::MappedFile; pread where the
// system gives no mapping or the file shrank since it was opened). Wrapped (fixed-width lines, \n or \r\n) and
// unwrapped one-line records are both plain cases of the index.
//
// Thread contract: immutable after construction; any number of threads may read at once.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.hpp"
#include "io/random_access_file.hpp"

namespace bwl::fasta {

// One line of a .fai: the record's name, bases, byte offset of its first base, bases per line
// and bytes per line (bases plus the line ending).
struct FastaRecord {
  std::string name;
  uint64_t length = 0;
  uint64_t offset = 0;
  uint64_t line_bases = 0;
  uint64_t line_bytes = 0;

  // The file offset of base `base` (< length): lines are regular, so it is computed.
  uint64_t byte_of(uint64_t base) const { return offset + (base / line_bases) * line_bytes + base % line_bases; }
};

class FastaFile {
 public:
  // Throws FileNotFound, or FormatError (naming the file and line) for a FASTA whose lines
  // within a record are not all the same width but the last, or an unreadable .fai.
  explicit FastaFile(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const std::vector<FastaRecord>& records() const { return records_; }
  // Position of `name` in records(), or -1.
  int64_t find(const std::string& name) const;
  // True when the index was built by this object (no usable .fai was there).
  bool built_index() const { return built_index_; }

  // Copies the bases [start, end) of record `record` to out[0, end - start), as stored (case
  // kept). Throws InvalidArgument unless 0 <= start <= end <= length, FormatError (naming the
  // file) when the file has shrunk since it was opened and no longer holds them.
  void read(size_t record, int64_t start, int64_t end, char* out) const;

  // Asks the memory system for the mapped bytes of bases [start, end) of record `record`, so that
  // a read() of them soon after finds them in cache: a caller reading many windows prefetches
  // the next while copying this one, overlapping their memory latency. Does nothing where the
  // file is not mapped or the range is not inside the record (a prefetch never faults).
  void prefetch(size_t record, int64_t start, int64_t end) const;

 private:
  // Whether a .fai read from disk matches this file where it can be checked cheaply (the bytes
  // around each record's first line and last base): else it is rebuilt.
  bool index_describes_file(const std::vector<FastaRecord>& records) const;

  io::RandomAccessFile file_;
  io::MappedFile map_;  // of file_, made when it is opened
  std::vector<FastaRecord> records_;
  std::unordered_map<std::string, size_t> by_name_;
  bool built_index_ = false;
};

// The .fai text of `records` (samtools' format: tab-separated, one record a line).
std::string format_fai(const std::vector<FastaRecord>& records);

// Scans a FASTA file and returns its index. Throws FormatError on irregular line widths.
std::vector<FastaRecord> build_fai(const io::RandomAccessFile& fasta);

}  // namespace bwl::fasta
