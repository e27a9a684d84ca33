#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.BigWigWriter (writer/bigwig_writer.hpp); bigwig_loader.writer
// wraps it with argument conversion and the context manager.
void bind_writer(pybind11::module_& m);

}  // namespace bwl::bindings
