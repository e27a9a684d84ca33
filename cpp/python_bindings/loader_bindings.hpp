#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.StreamedLoader (the C++ StreamedDataloader).
void bind_loader(pybind11::module_& m);

}  // namespace bwl::bindings
