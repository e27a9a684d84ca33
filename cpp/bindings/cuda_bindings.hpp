#pragma once
// Bindings of the CUDA backend (compiled only when the build has it): _core.CudaTensor and
// _core.CudaBackend.
#include <pybind11/pybind11.h>

namespace bwl::bindings {

void bind_cuda(pybind11::module_& m);

}  // namespace bwl::bindings
