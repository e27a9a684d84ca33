#pragma once
// Binding helpers for tensors crossing into Python through DLPack: part of the one binding
// module, split out so core_module.cpp stays readable.
#include "tensor/dlpack_abi.hpp"
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <vector>

#include "tensor/tensor.hpp"

namespace bwl::bindings {

// Registers bigwig_loader._core.Tensor (exported as bigwig_loader.Tensor).
void bind_tensor(pybind11::module_& m);
// A writable numpy array viewing a float32 or uint8 host tensor without a copy, its base the
// tensor (kept alive by it); TypeError for bfloat16, which numpy lacks.
pybind11::array host_array(const std::shared_ptr<HostTensor>& tensor);
// Registers _core.flip_rows and _core.moving_average_rows (tensor/transforms.hpp).
void bind_tensor_transforms(pybind11::module_& m);

// A DLPack capsule ("dltensor") viewing `data` on `device`, keeping `tensor` alive until the
// consumer lets go (or the capsule dies unconsumed).
pybind11::object to_capsule(std::shared_ptr<Tensor> tensor, void* data, DLDevice device);

// [start, stop) of a Python slice of a tensor's first axis (step 1 only, else ValueError).
std::pair<int64_t, int64_t> row_slice(const Tensor& tensor, const pybind11::slice& rows);

// A consumer's `out=` array, borrowed through its __dlpack__ for as long as this object lives.
class BorrowedOutput {
 public:
  BorrowedOutput(const pybind11::object& array, const std::vector<int64_t>& shape, DType dtype);
  ~BorrowedOutput();
  BorrowedOutput(const BorrowedOutput&) = delete;
  BorrowedOutput& operator=(const BorrowedOutput&) = delete;
  void* data() const { return data_; }

 private:
  pybind11::object capsule_;
  void* managed_ = nullptr;  // DLManagedTensor*
  void* data_ = nullptr;
};

}  // namespace bwl::bindings
