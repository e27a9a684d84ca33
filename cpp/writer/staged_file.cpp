#include "writer/staged_file.hpp"

#include <fcntl.h>
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

}  // namespace

StagedFile::StagedFile(const std::string& final_path) : final_path_(final_path) {
  if (final_path.empty() || final_path.back() == '/')
    throw InvalidArgument("output path '" + final_path + "' names no file");
  const std::string dir = directory_of(final_path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw FileNotFound(final_path + ": directory '" + dir + "' does not exist");
  if (::stat(final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw InvalidArgument("output path '" + final_path + "' is a directory");
  std::string pattern = (dir == "." && final_path.find('/') == std::string::npos ? std::string() : dir + "/") + "." +
                        base_name_of(final_path) + ".XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) fail("cannot create a temporary file in '" + dir + "'");
  temp_path_.assign(name.data());
  // mkstemp makes the file 0600; give it the mode a plain create would (0666 less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  buffer_.reserve(kBufferBytes);
}

StagedFile::~StagedFile() { abort(); }

void StagedFile::fail(const std::string& what) const {
  const int err = errno;
  throw Error(final_path_ + ": " + what + ": " + std::strerror(err));
}

void StagedFile::append(const uint8_t* data, size_t n) {
  if (buffer_.size() + n > kBufferBytes) flush();
  if (n >= kBufferBytes) {
    // Large pieces go straight through.
    buffer_.insert(buffer_.end(), data, data + n);
    flush();
    return;
  }
  buffer_.insert(buffer_.end(), data, data + n);
}

void StagedFile::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t w = ::pwrite(fd_, buffer_.data() + done, buffer_.size() - done, static_cast<off_t>(flushed_ + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    done += static_cast<size_t>(w);
  }
  flushed_ += buffer_.size();
  buffer_.clear();
}

void StagedFile::patch(uint64_t offset, const std::vector<uint8_t>& bytes) {
  if (offset + bytes.size() > size()) throw Error(final_path_ + ": internal error: patch past the end of the file");
  flush();
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    done += static_cast<size_t>(w);
  }
}

void StagedFile::read(uint64_t offset, size_t n, uint8_t* out) {
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

void StagedFile::commit() {
  flush();
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("closing the temporary file failed");
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) fail("cannot rename the finished file into place");
  temp_path_.clear();
}

void StagedFile::abort() noexcept {
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
