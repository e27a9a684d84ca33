#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.Collection.
void bind_collection(pybind11::module_& m);

}  // namespace bwl::bindings
