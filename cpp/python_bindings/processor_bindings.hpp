#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers _core.BatchRequest (one batch, checked once when built), _core.BatchProcessor (the
// one processor interface) and _core.make_processor (the factory, from a device ordinal).
void bind_processors(pybind11::module_& m);

}  // namespace bwl::bindings
