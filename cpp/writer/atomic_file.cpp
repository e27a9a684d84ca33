#include "writer/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/errors.hpp"

namespace bwl::writer {
namespace {

constexpr size_t kBufferBytes = 4u << 20;  // appends reach the kernel in 4 MiB writes

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// mkstemp's suffix: six letters or digits.
bool is_temporary_suffix(const std::string& tail) {
  if (tail.size() != 6) return false;
  for (char c : tail) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Removes the regular files ".BASE.XXXXXX" in `dir` that no live writer holds: a writer keeps its
// temporary flocked until it ends, so a lock we can take belongs to a writer that died.
void remove_dead_temporaries(const std::string& dir, const std::string& base) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;  // the constructor reports an unusable directory itself
  const std::string prefix = "." + base + ".";
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (!is_temporary_suffix(name.substr(prefix.size()))) continue;
    const int fd = ::openat(::dirfd(d), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      ::unlinkat(::dirfd(d), name.c_str(), 0);  // a dead writer's: still ours to remove while we hold the lock
    }
    ::close(fd);
  }
  ::closedir(d);
}

// Makes a rename in `dir` durable (the directory entry itself synced).
void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // some file systems do not open directories: the rename stands, undurably
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(const std::string& final_path) : final_path_(final_path) {
  if (final_path.empty() || final_path.back() == '/')
    throw InvalidArgument("output path '" + final_path + "' names no file");
  const std::string dir = directory_of(final_path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw FileNotFound(final_path + ": directory '" + dir + "' does not exist");
  if (::stat(final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw InvalidArgument("output path '" + final_path + "' is a directory");
  remove_dead_temporaries(dir, base_name_of(final_path));
  std::string pattern = (dir == "." && final_path.find('/') == std::string::npos ? std::string() : dir + "/") + "." +
                        base_name_of(final_path) + ".XXXXXX";
  // The lock is held until this writer ends (the kernel drops it if the process dies): the mark
  // of a live writer that remove_dead_temporaries respects. Between mkstemp and flock another
  // writer's clean-up may take the new file for a dead one's: then its lock is held or the file
  // already unlinked, and a fresh name is made. A file system without flock has no marks, and
  // there no temporary is ever taken for a dead writer's.
  for (int attempt = 0;; ++attempt) {
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0) fail("cannot create a temporary file in '" + dir + "'");
    const bool locked = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
    struct stat mine {};
    const bool taken = locked ? (::fstat(fd_, &mine) == 0 && mine.st_nlink == 0) : errno == EWOULDBLOCK;
    if (!taken || attempt == 8) {
      temp_path_.assign(name.data());
      break;
    }
    ::close(fd_);  // the clean-up that took it unlinks it
  }
  // mkstemp makes the file 0600; give it the mode a plain create would (0666 less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() { abort(); }

void AtomicFile::fail(const std::string& what) const {
  const int err = errno;
  throw Error(final_path_ + ": " + what + ": " + std::strerror(err));
}

void AtomicFile::append(const uint8_t* data, size_t n) {
  if (buffer_.size() + n > kBufferBytes) flush();
  if (n >= kBufferBytes) {
    // Large pieces go straight through.
    buffer_.insert(buffer_.end(), data, data + n);
    flush();
    return;
  }
  buffer_.insert(buffer_.end(), data, data + n);
}

void AtomicFile::write_at(uint64_t offset, const uint8_t* data, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::pwrite(fd_, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    done += static_cast<size_t>(w);
  }
}

void AtomicFile::flush() {
  write_at(flushed_, buffer_.data(), buffer_.size());
  flushed_ += buffer_.size();
  buffer_.clear();
}

void AtomicFile::patch(uint64_t offset, const std::vector<uint8_t>& bytes) {
  if (offset + bytes.size() > size()) throw Error(final_path_ + ": internal error: patch past the end of the file");
  flush();
  write_at(offset, bytes.data(), bytes.size());
}

void AtomicFile::read(uint64_t offset, size_t n, uint8_t* out) {
  if (offset + n > size()) throw Error(final_path_ + ": internal error: read past the end of the file");
  if (offset + n > flushed_) flush();
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail("read back failed");
    }
    if (r == 0) throw Error(final_path_ + ": temporary file shorter than written");
    done += static_cast<size_t>(r);
  }
}

void AtomicFile::commit() {
  flush();
  if (::fsync(fd_) != 0) fail("cannot sync the finished file to disk");  // its data before its name
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("closing the temporary file failed");
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) fail("cannot rename the finished file into place");
  temp_path_.clear();
  sync_directory(directory_of(final_path_));
}

void AtomicFile::abort() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
  buffer_.clear();
}

}  // namespace bwl::writer
