#pragma once
// Bindings of the CUDA types (compiled only when the build has CUDA): _core.CudaTensor and the
// device overloads of the tensor transforms. The CUDA processor is bound as _core.BatchProcessor.
#include <pybind11/pybind11.h>

namespace bwl::bindings {

void bind_cuda(pybind11::module_& m);

}  // namespace bwl::bindings
