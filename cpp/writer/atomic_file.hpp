#pragma once
// The file a writer produces, written under a temporary name in the destination's directory
// (".NAME.XXXXXX", XXXXXX random) and renamed onto the real name only by commit(). So a crash, an
// exception or an abort() never leaves a half-written file under the real name, and a file
// already there stays untouched until the new one is complete. The rename is atomic on POSIX
// filesystems because both names are in one directory, and durable: the file's data is synced
// before the rename and the directory after it, so that after a power loss the name holds the
// old file or the whole new one.
//
// A writer holds an exclusive flock on its temporary file while it lives; the kernel drops it
// when the process dies, however it dies. So a writer that finds temporaries of its destination
// that nobody holds (".NAME.XXXXXX" left by a killed writer) removes them when it starts; those
// of writers still running are locked and left alone.
//
// Appends go through an in-memory buffer; patch() rewrites bytes already appended (the
// header and tables whose contents are known only at the end); read() reads back what was
// appended (the zoom levels are computed from the data blocks on disk).
//
// Thread contract: not thread-safe; one owner. The destructor removes an uncommitted file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bwl::writer {

class AtomicFile {
 public:
  // Removes the temporaries dead writers left for this destination, then creates its own.
  // Throws FileNotFound when the directory does not exist and Error (OSError) when it cannot
  // be written.
  explicit AtomicFile(const std::string& final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }

  uint64_t size() const { return flushed_ + buffer_.size(); }  // bytes appended so far
  void append(const uint8_t* data, size_t n);
  void append(const std::vector<uint8_t>& bytes) { append(bytes.data(), bytes.size()); }
  void patch(uint64_t offset, const std::vector<uint8_t>& bytes);  // within [0, size())
  void read(uint64_t offset, size_t n, uint8_t* out);              // within [0, size())

  // Flushes, closes and renames onto the final path. After it, the object owns nothing.
  void commit();
  // Closes and removes the temporary file; safe to call twice and after commit (then a no-op).
  void abort() noexcept;

 private:
  void flush();
  void write_at(uint64_t offset, const uint8_t* data, size_t n);  // all of it, retrying short writes
  [[noreturn]] void fail(const std::string& what) const;

  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  uint64_t flushed_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace bwl::writer
