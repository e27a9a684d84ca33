#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "engine/batch_plan.hpp"

namespace bwl::bindings {

// A BatchRequest from the arrays the Python layer prepares (checked again by plan_batch).
engine::BatchRequest make_request(const pybind11::array_t<uint32_t, pybind11::array::c_style | pybind11::array::forcecast>& chroms,
                                  const pybind11::array_t<int64_t, pybind11::array::c_style | pybind11::array::forcecast>& starts,
                                  int64_t length, uint32_t window_size, float default_value, const std::string& dtype,
                                  const pybind11::array_t<uint32_t, pybind11::array::c_style | pybind11::array::forcecast>& tracks,
                                  const pybind11::array_t<float, pybind11::array::c_style | pybind11::array::forcecast>& scales);

// Registers bigwig_loader._core.Collection and bigwig_loader._core.CpuBackend.
void bind_collection(pybind11::module_& m);

}  // namespace bwl::bindings
