#pragma once
// The exception types of the C++ core. The binding layer maps each to one Python type in one
// place (cpp/python_bindings/core_module.cpp):
//   FileNotFound       -> FileNotFoundError
//   FormatError        -> bigwig_loader.BigWigError (a ValueError)
//   UnknownChromosome  -> KeyError
//   InvalidArgument    -> ValueError
//   DeviceError        -> bigwig_loader.DeviceError (a RuntimeError)
//   FileChanged        -> bigwig_loader.FileChangedError (an OSError)
//   PermissionDenied   -> PermissionError
//   RemoteReadFailed   -> bigwig_loader.RemoteReadError (an OSError)
// Device code never throws: the stages return statuses, and the host turns a bad status into
// one of these with the file and the byte offset.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace bwl {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FileNotFound : public Error {
 public:
  using Error::Error;
};

// The bytes of a file are not a valid bigWig: not BBI at all, a bigBed, truncated, or corrupt.
// Made by format_error(), it also keeps its parts, so callers that collect problems (the
// survey behind `validate`) need not parse the message.
class FormatError : public Error {
 public:
  using Error::Error;
  FormatError(const std::string& path, const std::string& detail, std::optional<uint64_t> offset)
      : Error(path + ": " + detail + (offset ? " (at byte offset " + std::to_string(*offset) + ")" : "")),
        path_(path),
        detail_(detail),
        offset_(offset) {}

  const std::string& path() const { return path_; }      // empty unless made by format_error()
  const std::string& detail() const { return detail_; }  // what is wrong, without path or offset
  std::optional<uint64_t> offset() const { return offset_; }

 private:
  std::string path_;
  std::string detail_;
  std::optional<uint64_t> offset_;
};

class UnknownChromosome : public Error {
 public:
  using Error::Error;
};

class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A compute device cannot be used: none is visible, the build has no CUDA, or the CUDA runtime
// reported an error (the message names the call).
class DeviceError : public Error {
 public:
  using Error::Error;
};

// A file was changed (rewritten, replaced or removed) after it was opened: what was read from it
// at open (its index, the cache's blocks) no longer describes it, and reading on would mix old
// and new bytes.
class FileChanged : public Error {
 public:
  using Error::Error;
};

// A store refused the credentials (or their absence) for an object.
class PermissionDenied : public Error {
 public:
  using Error::Error;
};

// A range of a remote object could not be read: a transient fault (timeout, 5xx, a reset or
// short body) outlasted the retries. The message names the URL, the byte range and the cause.
class RemoteReadFailed : public Error {
 public:
  using Error::Error;
};

// "path: what (at byte offset N)": the one shape of every FormatError message.
inline FormatError format_error(const std::string& path, const std::string& what, uint64_t offset) {
  return FormatError(path, what, offset);
}

inline FormatError format_error(const std::string& path, const std::string& what) {
  return FormatError(path, what, std::nullopt);
}

}  // namespace bwl
