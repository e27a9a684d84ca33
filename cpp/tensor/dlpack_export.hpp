#pragma once
// DLPack interchange for host tensors (the unversioned DLManagedTensor that numpy, torch and
// CuPy all accept; the ABI is declared in tensor/dlpack_abi.hpp).
#include "tensor/dlpack_abi.hpp"

#include <memory>

#include "tensor/tensor.hpp"

namespace bwl {

// A DLManagedTensor viewing `tensor`, which it keeps alive until the consumer calls its
// deleter. Never copies.
DLManagedTensor* export_dlpack(std::shared_ptr<HostTensor> tensor);

// The same for a tensor of any kind whose first element is `data` on `device` (the CUDA
// backend's device tensors).
DLManagedTensor* export_dlpack(std::shared_ptr<Tensor> tensor, void* data, DLDevice device);

// A writable view of a consumer's array handed to us as a DLPack tensor (the `out=` argument):
// checks that it lives in host memory, is C-contiguous, and has the expected shape and dtype;
// throws InvalidArgument naming `what` and what is wrong otherwise.
void* checked_output_view(const DLTensor& t, const std::vector<int64_t>& shape, DType dtype, const char* what);

}  // namespace bwl
