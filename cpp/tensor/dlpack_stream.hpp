#pragma once
// What the `stream` argument of __dlpack__ asks of a CUDA producer (DLPack / array API), as a
// pure function so that every machine tests the mapping: the CUDA backend turns the answer into
// a cudaStream_t (cuda/device_tensor.cu).
#include <cstdint>

#include "common/errors.hpp"

namespace bwl {

enum class DlpackStream {
  NoSync,     // -1: the consumer synchronizes itself
  Legacy,     // None, 1, and 0: the legacy default stream
  PerThread,  // 2: the per-thread default stream
  Handle,     // > 2: a cudaStream_t handle
};

// `stream` null for None. 0 is ambiguous in the standard; CuPy reads it as the legacy default
// stream and older PyTorch passes it for "the default stream", so it is accepted as that.
// Throws InvalidArgument for any other negative value.
inline DlpackStream dlpack_stream_kind(const int64_t* stream) {
  if (stream == nullptr) return DlpackStream::Legacy;
  const int64_t s = *stream;
  if (s == -1) return DlpackStream::NoSync;
  if (s == 0 || s == 1) return DlpackStream::Legacy;
  if (s == 2) return DlpackStream::PerThread;
  if (s < 0) throw InvalidArgument("__dlpack__: stream must be None, -1, 0, 1, 2 or a CUDA stream handle");
  return DlpackStream::Handle;
}

}  // namespace bwl
