#pragma once
// What the format layer and the engine read bytes from: a local file (io::RandomAccessFile,
// pread) or a remote object (io::RemoteObject, byte ranges fetched from S3, GCS, Azure or
// HTTP(S) through a RangeFetcher). Readers ask for byte ranges and never learn which one they
// have; a remote source is fast only when told ahead what will be read (read_ahead), which the
// callers that know (the batch path, a file's open, values()) do.
//
// Thread contract: immutable to its users (a remote source's fetched spans are synchronized
// inside); any number of threads may read one source at once.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bwl::io {

class MappedFile;  // io/mapped_file.hpp

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
};

// Bytes fetched from a remote object at `offset`.
struct FetchedSpan {
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;
};

// What keeps fetched bytes alive: a source serves reads from a span only while someone holds it
// (a batch until its blocks are decoded, a file's open until its index is read).
using FetchHold = std::vector<std::shared_ptr<const FetchedSpan>>;

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // The path or URL, as every error about this source names it.
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  virtual bool is_remote() const { return false; }

  // Reads exactly `length` bytes at `offset` into `dst`. A range past the end throws FormatError
  // naming `what` (e.g. "chromosome tree node") and the offset: in a BBI file every read is of
  // something an index or header promised, so a short file means a truncated one.
  virtual void read_exact(uint64_t offset, size_t length, void* dst, const char* what) const = 0;

  // Throws FileChanged naming the source when it no longer is what was opened. Callers that keep
  // what they read (an index, decoded blocks) call it before trusting that again.
  virtual void check_unchanged() const = 0;

  // The ranges about to be read. A remote source fetches them now, in one concurrent round, and
  // serves read_exact from them while the returned hold lives; a local source returns an empty
  // hold (pread needs no warning).
  virtual FetchHold read_ahead(const std::vector<ByteRange>& /*ranges*/) const { return {}; }

  // The bytes [offset, offset + length) where they already lie in memory (a remote source's
  // fetched span, kept alive by the returned pointer), so that a reader can inflate them where
  // they landed instead of copying them first; null when they do not (a local file: read_exact).
  virtual std::shared_ptr<const FetchedSpan> span_covering(uint64_t /*offset*/, uint64_t /*length*/) const {
    return nullptr;
  }

  // The whole source mapped into memory (io::MappedFile: reads under its fault guard), or null
  // (a remote source; a local file opened without one, or one the system would not map).
  virtual const MappedFile* mapping() const { return nullptr; }

  // Throws what read_exact throws for a range past the end, without reading. Called before
  // allocating a buffer whose size a file field gives, so that no file makes the reader allocate
  // more than the bytes it actually has.
  void check_range(uint64_t offset, uint64_t length, const char* what) const;

 protected:
  explicit ByteSource(std::string path) : path_(std::move(path)) {}
  uint64_t size_ = 0;  // set by the constructor of the derived source

 private:
  std::string path_;
};

}  // namespace bwl::io
