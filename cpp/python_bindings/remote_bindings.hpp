#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.ByteSource, RemoteObject (a remote object read through a Python
// range fetcher: bigwig_loader/remote.py), open_ranges and merge_ranges.
void bind_remote(pybind11::module_& m);

}  // namespace bwl::bindings
