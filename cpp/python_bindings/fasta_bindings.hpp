#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.FastaFile and the one-hot encoder.
void bind_fasta(pybind11::module_& m);

}  // namespace bwl::bindings
