#include "tensor/tensor.hpp"

#include <string>

#include "common/errors.hpp"
#include "tensor/host_buffers.hpp"

namespace bwl {

Tensor::Tensor(std::vector<int64_t> shape, DType dtype) : shape_(std::move(shape)), dtype_(dtype) {
  for (int64_t d : shape_) {
    if (d < 0) throw InvalidArgument("tensor dimensions must not be negative");
  }
}

size_t Tensor::size() const {
  size_t n = 1;
  for (int64_t d : shape_) n *= static_cast<size_t>(d);
  return n;
}

HostTensor::HostTensor(std::vector<int64_t> shape, DType dtype)
    : Tensor(std::move(shape), dtype), storage_(allocate_host_buffer(nbytes())), data_(storage_.get()) {}

std::vector<int64_t> Tensor::row_range(int64_t start, int64_t stop, size_t* byte_offset) const {
  if (shape_.empty() || start < 0 || start > stop || stop > shape_[0]) {
    throw InvalidArgument("row range [" + std::to_string(start) + ", " + std::to_string(stop) +
                          ") is outside the tensor");
  }
  std::vector<int64_t> shape = shape_;
  shape[0] = stop - start;
  const size_t row_bytes = shape_[0] == 0 ? 0 : nbytes() / static_cast<size_t>(shape_[0]);
  *byte_offset = static_cast<size_t>(start) * row_bytes;
  return shape;
}

std::shared_ptr<HostTensor> HostTensor::rows(int64_t start, int64_t stop) const {
  size_t offset;
  std::vector<int64_t> shape = row_range(start, stop, &offset);
  return std::shared_ptr<HostTensor>(
      new HostTensor(std::move(shape), dtype_, storage_, static_cast<char*>(data_) + offset));
}

}  // namespace bwl
