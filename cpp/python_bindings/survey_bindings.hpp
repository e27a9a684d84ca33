#pragma once
#include <pybind11/pybind11.h>

namespace bwl::bindings {

// Registers bigwig_loader._core.survey_bigwig: every block of one file, read and checked
// (format/block_survey.hpp), for the command line's info and validate.
void bind_survey(pybind11::module_& m);

}  // namespace bwl::bindings
