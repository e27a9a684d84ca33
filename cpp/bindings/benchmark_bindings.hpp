#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers _core.inflate_floor (benchmarks/cpp/inflate_floor.hpp), for benchmarks/harness.py.
void bind_benchmarks(pybind11::module_& m);

}  // namespace bwl::bindings
