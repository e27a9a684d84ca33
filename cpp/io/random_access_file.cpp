#include "io/random_access_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errors.hpp"

namespace bwl::io {

RandomAccessFile::RandomAccessFile(std::string path) : ByteSource(std::move(path)) {
  const std::string& path_ = this->path();
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw FileNotFound(path_ + ": no such file");
    throw Error(path_ + ": cannot stat: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw FileNotFound(path_ + ": not a regular file");
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(path_ + ": cannot open: " + std::strerror(errno));
  // The identity of what was opened (the path may have been replaced between stat and open).
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw Error(path_ + ": cannot stat: " + std::strerror(err));
  }
  size_ = static_cast<uint64_t>(st.st_size);
  device_ = static_cast<uint64_t>(st.st_dev);
  inode_ = static_cast<uint64_t>(st.st_ino);
  mtime_seconds_ = static_cast<int64_t>(st.st_mtim.tv_sec);
  mtime_nanoseconds_ = static_cast<int64_t>(st.st_mtim.tv_nsec);
}

void RandomAccessFile::check_unchanged() const {
  const std::string& path_ = this->path();
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    throw FileChanged(path_ + ": the file was removed or became unreadable after it was opened (" +
                      std::strerror(errno) + "); open it again");
  }
  std::string what;
  if (static_cast<uint64_t>(st.st_dev) != device_ || static_cast<uint64_t>(st.st_ino) != inode_) {
    what = "was replaced by another file";
  } else if (static_cast<uint64_t>(st.st_size) != size_) {
    what = "changed size from " + std::to_string(size_) + " to " + std::to_string(st.st_size) + " bytes";
  } else if (st.st_mtim.tv_sec != mtime_seconds_ || st.st_mtim.tv_nsec != mtime_nanoseconds_) {
    what = "was modified (its modification time changed)";
  } else {
    return;
  }
  throw FileChanged(path_ + ": the file " + what +
                    " after it was opened; what was read at open (its index, cached blocks) no longer describes "
                    "it: open it again");
}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RandomAccessFile::read_exact(uint64_t offset, size_t length, void* dst, const char* what) const {
  const std::string& path_ = this->path();
  check_range(offset, length, what);
  auto* out = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < length) {
    ssize_t got = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(path_ + ": read error at byte offset " + std::to_string(offset + done) + ": " + std::strerror(errno));
    }
    if (got == 0) {
      throw format_error(path_, std::string("truncated while reading ") + what, offset + done);
    }
    done += static_cast<size_t>(got);
  }
}

}  // namespace bwl::io
