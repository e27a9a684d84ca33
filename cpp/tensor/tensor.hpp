#pragma once
// An owning, C-contiguous host tensor: what get_batch returns. Exported without a copy through
// DLPack (tensor/dlpack_export.hpp); the memory lives until the last holder (Python object or
// DLPack consumer) lets go, so a returned tensor is never overwritten by a later batch.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/dtype.hpp"

namespace bwl {

// A batch wherever its memory lives: shape and dtype. HostTensor (host memory, here) and
// cuda::DeviceTensor (device memory, cuda/) are its two kinds; it is polymorphic so the loader
// hands either back and the bindings give Python the concrete type. C-contiguous always.
class Tensor {
 public:
  virtual ~Tensor() = default;
  const std::vector<int64_t>& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  size_t size() const;  // elements
  size_t nbytes() const { return size() * dtype_bytes(dtype_); }

 protected:
  // Throws InvalidArgument for a negative dimension.
  Tensor(std::vector<int64_t> shape, DType dtype);

  // For row views: the shape of rows [start, stop) of the first axis, and the byte offset of
  // their first element. Throws InvalidArgument unless 0 <= start <= stop <= shape[0].
  std::vector<int64_t> row_range(int64_t start, int64_t stop, size_t* byte_offset) const;

  std::vector<int64_t> shape_;
  DType dtype_;
};

class HostTensor : public Tensor {
 public:
  HostTensor(std::vector<int64_t> shape, DType dtype);

  // Rows [start, stop) of the first axis, sharing this tensor's memory (which lives while any
  // view does). Throws InvalidArgument unless 0 <= start <= stop <= shape[0].
  std::shared_ptr<HostTensor> rows(int64_t start, int64_t stop) const;

  void* data() const { return data_; }

 private:
  HostTensor(std::vector<int64_t> shape, DType dtype, std::shared_ptr<void> storage, void* data)
      : Tensor(std::move(shape), dtype), storage_(std::move(storage)), data_(data) {}

  std::shared_ptr<void> storage_;  // 64-byte aligned (tensor/host_buffers: recycled); shared by views
  void* data_ = nullptr;           // first element of this tensor within storage_
};

}  // namespace bwl
