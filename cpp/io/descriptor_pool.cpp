#include "io/descriptor_pool.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/errors.hpp"
#include "io/descriptor_limit.hpp"
#include "io/random_access_file.hpp"

namespace bwl::io {
namespace {

// The pool never counts on fewer descriptors than this, whatever the limit says: below it the
// process could not read a batch anyway, and an open that fails says so by name.
constexpr size_t kMinCapacity = 8;

}  // namespace

DescriptorPool& DescriptorPool::instance() {
  // Never destroyed: files may outlive static destruction order (a module's globals at exit).
  static auto* pool = new DescriptorPool();
  return *pool;
}

DescriptorPool::DescriptorPool() { fit_to_limit(); }

void DescriptorPool::fit_to_limit() {
  const DescriptorRoom room = make_room_for_descriptors(0);
  std::lock_guard<std::mutex> lock(mutex_);
  if (room.soft_limit == 0) {
    capacity_ = SIZE_MAX;  // the limit is unknown: nothing to fit
    return;
  }
  // What the rest of the process holds now (the pool's own files are among `room.open`).
  const size_t others = room.open > open_ ? room.open - open_ : 0;
  const size_t used = others + kDescriptorMargin;
  capacity_ = room.soft_limit > used ? std::max(kMinCapacity, room.soft_limit - used) : kMinCapacity;
  make_room_locked();
}

void DescriptorPool::set_capacity(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_ = std::max<size_t>(1, n);
  make_room_locked();
}

size_t DescriptorPool::capacity() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return capacity_;
}

size_t DescriptorPool::open_files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_;
}

bool DescriptorPool::close_one_idle_locked() {
  if (idle_.empty()) return false;
  const RandomAccessFile* victim = idle_.front();
  idle_.pop_front();
  victim->idle_ = false;
  ::close(victim->fd_);
  victim->fd_ = -1;
  --open_;
  return true;
}

void DescriptorPool::make_room_locked() {
  while (open_ >= capacity_ && close_one_idle_locked()) {
  }
}

int DescriptorPool::open_new(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  make_room_locked();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  // The rest of the process may have taken what the pool counted on: give it one more back.
  while (fd < 0 && (errno == EMFILE || errno == ENFILE) && close_one_idle_locked()) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  ++open_;
  return fd;
}

void DescriptorPool::close_new(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  ::close(fd);
  --open_;
}

void DescriptorPool::adopt(const RandomAccessFile& file, int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  file.fd_ = fd;
  file.idle_at_ = idle_.insert(idle_.end(), &file);
  file.idle_ = true;
}

int DescriptorPool::acquire(const RandomAccessFile& file) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file.idle_) {
    idle_.erase(file.idle_at_);
    file.idle_ = false;
  }
  if (file.fd_ < 0) {
    make_room_locked();
    int fd = file.reopen();
    while (fd < 0 && close_one_idle_locked()) fd = file.reopen();
    if (fd < 0) throw Error(file.path() + ": cannot open: " + std::strerror(errno));
    file.fd_ = fd;
    ++open_;
  }
  ++file.leases_;
  return file.fd_;
}

void DescriptorPool::release(const RandomAccessFile& file) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--file.leases_ == 0 && file.fd_ >= 0) {
    file.idle_at_ = idle_.insert(idle_.end(), &file);
    file.idle_ = true;
    make_room_locked();  // another file's read may have gone past the capacity meanwhile
  }
}

bool DescriptorPool::stat_if_open(const RandomAccessFile& file, struct stat& st) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (file.fd_ < 0) return false;
    if (file.idle_) {
      idle_.erase(file.idle_at_);
      file.idle_ = false;
    }
    ++file.leases_;
    fd = file.fd_;
  }
  const bool ok = ::fstat(fd, &st) == 0;
  release(file);
  return ok;
}

void DescriptorPool::forget(const RandomAccessFile& file) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file.idle_) {
    idle_.erase(file.idle_at_);
    file.idle_ = false;
  }
  if (file.fd_ >= 0) {
    ::close(file.fd_);
    file.fd_ = -1;
    --open_;
  }
}

}  // namespace bwl::io
