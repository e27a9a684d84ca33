#include "io/random_access_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "common/errors.hpp"
#include "io/descriptor_pool.hpp"
#include "io/mapped_file.hpp"

namespace bwl::io {
namespace {

int64_t steady_nanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RandomAccessFile::RandomAccessFile(std::string path, Mapped mapped) : ByteSource(std::move(path)) {
  const std::string& path_ = this->path();
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw FileNotFound(path_ + ": no such file");
    throw Error(path_ + ": cannot stat: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw FileNotFound(path_ + ": not a regular file");
  const int fd = DescriptorPool::instance().open_new(path_);
  // The identity of what was opened (the path may have been replaced between stat and open).
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    DescriptorPool::instance().close_new(fd);
    throw Error(path_ + ": cannot stat: " + std::strerror(err));
  }
  size_ = static_cast<uint64_t>(st.st_size);
  device_ = static_cast<uint64_t>(st.st_dev);
  inode_ = static_cast<uint64_t>(st.st_ino);
  mtime_seconds_ = static_cast<int64_t>(st.st_mtim.tv_sec);
  mtime_nanoseconds_ = static_cast<int64_t>(st.st_mtim.tv_nsec);
  links_.store(static_cast<uint64_t>(st.st_nlink), std::memory_order_relaxed);
  path_checked_at_.store(steady_nanoseconds(), std::memory_order_relaxed);
  DescriptorPool::instance().adopt(*this, fd);
  // Under a finite address-space limit (ulimit -v) a mapping of every file would spend it: pread.
  struct rlimit address_space {};
  const bool unlimited = ::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur == RLIM_INFINITY;
  if (mapped == Mapped::Yes && unlimited) {
    try {
      map_ = std::make_unique<MappedFile>(*this, MappedFile::Access::Random);
    } catch (...) {
      DescriptorPool::instance().forget(*this);  // the destructor of a half-made file does not run
      throw;
    }
    if (!map_->mapped()) map_.reset();
  }
}

const MappedFile* RandomAccessFile::mapping() const { return map_.get(); }

int RandomAccessFile::reopen() const {
  const int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) return -1;  // the pool makes room and asks again
  if (fd < 0) {
    throw FileChanged(path() + ": the file was removed or became unreadable after it was opened (" +
                      std::strerror(errno) + "); open it again");
  }
  struct stat st {};
  const bool same = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_dev) == device_ &&
                    static_cast<uint64_t>(st.st_ino) == inode_ && static_cast<uint64_t>(st.st_size) == size_ &&
                    st.st_mtim.tv_sec == mtime_seconds_ && st.st_mtim.tv_nsec == mtime_nanoseconds_;
  if (!same) {
    ::close(fd);
    throw FileChanged(path() +
                      ": the file was replaced or modified after it was opened; what was read at open (its index, "
                      "cached blocks) no longer describes it: open it again");
  }
  return fd;
}

RandomAccessFile::Lease::Lease(const RandomAccessFile& file)
    : file_(file), fd_(DescriptorPool::instance().acquire(file)) {}

RandomAccessFile::Lease::~Lease() { DescriptorPool::instance().release(file_); }

void RandomAccessFile::check_unchanged() const {
  const int64_t now = steady_nanoseconds();
  const auto recheck = static_cast<int64_t>(kPathRecheckSeconds * 1e9);
  if (now - path_checked_at_.load(std::memory_order_relaxed) < recheck) {
    struct stat st {};
    if (DescriptorPool::instance().stat_if_open(*this, st) && static_cast<uint64_t>(st.st_size) == size_ &&
        st.st_mtim.tv_sec == mtime_seconds_ && st.st_mtim.tv_nsec == mtime_nanoseconds_ &&
        static_cast<uint64_t>(st.st_nlink) == links_.load(std::memory_order_relaxed)) {
      return;
    }
  }
  // Throws, naming what changed, unless the path still names the opened file as it was; a link
  // made or removed elsewhere since then is no change to it.
  links_.store(check_path(), std::memory_order_relaxed);
  path_checked_at_.store(now, std::memory_order_relaxed);
}

uint64_t RandomAccessFile::check_path() const {
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
    return static_cast<uint64_t>(st.st_nlink);
  }
  throw FileChanged(path_ + ": the file " + what +
                    " after it was opened; what was read at open (its index, cached blocks) no longer describes "
                    "it: open it again");
}

RandomAccessFile::~RandomAccessFile() { DescriptorPool::instance().forget(*this); }

void RandomAccessFile::read_exact(uint64_t offset, size_t length, void* dst, const char* what) const {
  const std::string& path_ = this->path();
  check_range(offset, length, what);
  auto* out = static_cast<unsigned char*>(dst);
  size_t done = 0;
  const Lease lease(*this);
  while (done < length) {
    ssize_t got = ::pread(lease.fd(), out + done, length - done, static_cast<off_t>(offset + done));
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
