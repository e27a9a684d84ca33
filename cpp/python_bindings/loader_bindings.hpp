#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.StreamedDataloader (the C++ loader; its Python face is
// bigwig_loader.StreamedDataloader, which owns one).
void bind_loader(pybind11::module_& m);

}  // namespace bwl::bindings
