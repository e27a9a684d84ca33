#include "fasta/fasta_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"

namespace bwl::fasta {
namespace {

constexpr size_t kScanChunk = 1 << 20;

// Builds the index line by line over chunks of the file, so a 3 GB genome needs 1 MB of memory.
class IndexBuilder {
 public:
  explicit IndexBuilder(const std::string& path) : path_(path) {}

  void line(const char* text, size_t n_bytes, uint64_t line_offset) {
    size_t n = n_bytes;  // without the line ending
    if (n && text[n - 1] == '\n') --n;
    if (n && text[n - 1] == '\r') --n;
    ++line_number_;
    if (n > 0 && text[0] == '>') {
      finish_record();
      size_t end = 1;
      while (end < n && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;  // the name ends at whitespace
      current_ = FastaRecord{};
      current_.name.assign(text + 1, end - 1);
      if (current_.name.empty()) fail("a header line with no name");
      current_.offset = line_offset + n_bytes;
      in_record_ = true;
      seen_short_line_ = false;
      return;
    }
    if (!in_record_) {
      if (n == 0) return;  // blank lines before the first record
      fail("sequence before the first '>' header");
    }
    if (n == 0) {  // a blank line: only allowed at the end of a record
      seen_short_line_ = true;
      return;
    }
    // A carriage return is a line ending only before '\n': a lone one (old Mac line endings,
    // or a damaged file) would otherwise be read as a base.
    if (std::memchr(text, '\r', n) != nullptr) fail("a carriage return inside a line (only \\n and \\r\\n end lines)");
    if (seen_short_line_)
      fail("record '" + current_.name + "' has lines of different widths (only the last may be shorter)");
    if (current_.line_bases == 0) {
      current_.line_bases = n;
      current_.line_bytes = n_bytes;
    } else if (n > current_.line_bases || (n == current_.line_bases && n_bytes != current_.line_bytes)) {
      fail("record '" + current_.name + "' has lines of different widths (only the last may be shorter)");
    } else if (n < current_.line_bases) {
      seen_short_line_ = true;
    }
    current_.length += n;
  }

  std::vector<FastaRecord> finish() {
    finish_record();
    return std::move(records_);
  }

 private:
  void finish_record() {
    if (in_record_) records_.push_back(current_);
    in_record_ = false;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw format_error(path_, "not a valid FASTA file: " + what + " (line " + std::to_string(line_number_) + ")");
  }

  const std::string& path_;
  std::vector<FastaRecord> records_;
  FastaRecord current_;
  bool in_record_ = false;
  bool seen_short_line_ = false;
  uint64_t line_number_ = 0;
};

std::vector<FastaRecord> parse_fai(const std::string& text, const std::string& fai_path) {
  std::vector<FastaRecord> records;
  std::istringstream in(text);
  std::string line;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    std::istringstream fields(line);
    FastaRecord r;
    if (!std::getline(fields, r.name, '\t') || !(fields >> r.length >> r.offset >> r.line_bases >> r.line_bytes) ||
        (r.length > 0 && (r.line_bases == 0 || r.line_bytes < r.line_bases))) {
      throw format_error(fai_path, "not a valid .fai index (line " + std::to_string(line_number) + ")");
    }
    records.push_back(std::move(r));
  }
  return records;
}

// Compared to the nanosecond: in whole seconds, a FASTA rewritten in the second its .fai was
// written would be read through the old index.
bool is_newer_or_same(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec) return sa.st_mtim.tv_sec > sb.st_mtim.tv_sec;
  return sa.st_mtim.tv_nsec >= sb.st_mtim.tv_nsec;
}

// Whether `records` (a .fai read from disk) still describe the file whose byte at offset i is
// at(i), for i < size: for every record, its first base follows a header's line ending; its first
// line is line_bases bases ended by a line ending of line_bytes - line_bases bytes; its last base
// lies inside the file and ends a line. A FASTA re-wrapped or edited under an index that kept an
// older modification time (cp -p, rsync -t) fails at its first record that moved. A handful of
// bytes per record, read where the records are.
template <typename ByteAt>
bool index_describes(const std::vector<FastaRecord>& records, uint64_t size, ByteAt&& at) {
  auto is_line_end = [](char c) { return c == '\n' || c == '\r'; };
  for (const FastaRecord& r : records) {
    if (r.offset == 0 || r.offset > size || at(r.offset - 1) != '\n') return false;
    if (r.length == 0) continue;
    const uint64_t last = r.byte_of(r.length - 1);
    if (last >= size || is_line_end(at(r.offset)) || is_line_end(at(last)) || at(last) == '>') return false;
    if (last + 1 < size && !is_line_end(at(last + 1))) return false;
    if (r.length > r.line_bases) {  // a full first line and its ending
      const uint64_t ending = r.offset + r.line_bases;
      if (is_line_end(at(ending - 1))) return false;
      for (uint64_t i = ending; i < r.offset + r.line_bytes; ++i) {
        if (!is_line_end(at(i))) return false;
      }
      if (is_line_end(at(r.offset + r.line_bytes))) return false;  // the second line starts with a base
    }
  }
  return true;
}

}  // namespace

bool FastaFile::index_describes_file(const std::vector<FastaRecord>& records) const {
  if (map_.mapped()) {
    bool fits = false;
    // A fault (the file shrank since it was mapped) leaves `fits` false: the index is rebuilt,
    // and the rebuild reports the truncated file.
    map_.read(
        [&](const char* bytes) { fits = index_describes(records, map_.size(), [&](uint64_t i) { return bytes[i]; }); });
    return fits;
  }
  return index_describes(records, file_.size(), [&](uint64_t i) {
    char c = 0;
    file_.read_exact(i, 1, &c, "FASTA text");
    return c;
  });
}

std::vector<FastaRecord> build_fai(const io::RandomAccessFile& fasta) {
  IndexBuilder builder(fasta.path());
  std::string pending;  // the part of a line that continues into the next chunk
  std::vector<char> chunk(
      static_cast<size_t>(std::min<uint64_t>(kScanChunk, fasta.size())));  // small files: small buffer
  uint64_t pos = 0;
  uint64_t line_start = 0;
  while (pos < fasta.size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kScanChunk, fasta.size() - pos));
    fasta.read_exact(pos, n, chunk.data(), "FASTA text");
    size_t from = 0;
    for (size_t i = 0; i < n; ++i) {
      if (chunk[i] != '\n') continue;
      pending.append(chunk.data() + from, i + 1 - from);
      builder.line(pending.data(), pending.size(), line_start);
      line_start += pending.size();
      pending.clear();
      from = i + 1;
    }
    pending.append(chunk.data() + from, n - from);
    pos += n;
  }
  if (!pending.empty()) builder.line(pending.data(), pending.size(), line_start);
  return builder.finish();
}

std::string format_fai(const std::vector<FastaRecord>& records) {
  std::string out;
  for (const auto& r : records) {
    out += r.name + "\t" + std::to_string(r.length) + "\t" + std::to_string(r.offset) + "\t" +
           std::to_string(r.line_bases) + "\t" + std::to_string(r.line_bytes) + "\n";
  }
  return out;
}

FastaFile::FastaFile(const std::string& path) : file_(path), map_(file_) {
  const std::string fai_path = path + ".fai";
  std::ifstream fai(fai_path);
  if (fai && is_newer_or_same(fai_path, path)) {
    std::stringstream text;
    text << fai.rdbuf();
    records_ = parse_fai(text.str(), fai_path);
  }
  // An index is trusted only where it matches the file, whatever the modification times say.
  if (records_.empty() || !index_describes_file(records_)) {
    records_ = build_fai(file_);
    built_index_ = true;
    // Keep the index for next time where we may write; an index in memory serves as well.
    std::ofstream out(fai_path, std::ios::trunc);
    if (out) out << format_fai(records_);
  }
  for (size_t i = 0; i < records_.size(); ++i) {
    if (!by_name_.emplace(records_[i].name, i).second) {
      throw format_error(path, "record '" + records_[i].name + "' appears twice");
    }
  }
}

int64_t FastaFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<int64_t>(it->second);
}

void FastaFile::prefetch(size_t record, int64_t start, int64_t end) const {
  if (record >= records_.size()) return;
  const FastaRecord& r = records_[record];
  if (start < 0 || start >= end || static_cast<uint64_t>(end) > r.length) return;
  const uint64_t first = r.byte_of(static_cast<uint64_t>(start));
  map_.prefetch(first, r.byte_of(static_cast<uint64_t>(end) - 1) + 1 - first);
}

void FastaFile::read(size_t record, int64_t start, int64_t end, char* out) const {
  const FastaRecord& r = records_.at(record);
  if (start < 0 || start > end || static_cast<uint64_t>(end) > r.length) {
    throw InvalidArgument("bases [" + std::to_string(start) + ", " + std::to_string(end) + ") are outside " + r.name +
                          " (length " + std::to_string(r.length) + ") in " + path());
  }
  if (start == end) return;
  const auto s = static_cast<uint64_t>(start), e = static_cast<uint64_t>(end);
  const uint64_t first = r.byte_of(s), last = r.byte_of(e - 1) + 1;
  // The bases line by line, the line endings skipped; `bytes` holds the file from `bytes_offset`.
  auto copy_lines = [&](const char* bytes, uint64_t bytes_offset) {
    uint64_t base = s;
    while (base < e) {
      const uint64_t take = std::min(r.line_bases - base % r.line_bases, e - base);
      std::memcpy(out + (base - s), bytes + (r.byte_of(base) - bytes_offset), take);
      base += take;
    }
  };
  // From the mapping, where the file is still as long as the index says. A file that has shrunk
  // since it was mapped faults past its new end (the guarded read returns false), and reads as
  // zeros in the rest of the page holding that end: a NUL, which no FASTA base is, sends the read
  // to pread too, which reports the truncated file (or returns what the file really holds).
  if (map_.mapped() && last <= map_.size() && map_.read([&](const char* bytes) { copy_lines(bytes, 0); }) &&
      std::memchr(out, 0, e - s) == nullptr) {
    return;
  }
  if (last - first == e - s) {  // no line ending inside: straight into `out`
    file_.read_exact(first, e - s, out, "FASTA bases");
    return;
  }
  // One pread covers the whole range (a 2 kb window of 60-base lines is one syscall, not 36).
  // A span of up to 1 MiB reuses this thread's buffer (reads run concurrently: thread
  // contract); a longer one (a whole chromosome) gets its own, freed on return.
  constexpr uint64_t kReusedSpan = uint64_t{1} << 20;
  thread_local std::vector<char> reused;
  std::vector<char> own;
  std::vector<char>& span = last - first <= kReusedSpan ? reused : own;
  span.resize(last - first);
  file_.read_exact(first, span.size(), span.data(), "FASTA bases");
  copy_lines(span.data(), first);
}

}  // namespace bwl::fasta
