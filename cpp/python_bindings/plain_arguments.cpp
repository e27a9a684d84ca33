#include "python_bindings/plain_arguments.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <string>

#include "engine/batch_plan.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

// Above this many names the lookups run with the GIL released (below, releasing costs more).
constexpr size_t kReleaseGilNames = 64;

bool is_exact_ndarray(py::handle h) {
  // Looked up once, with the GIL held throughout (a plain function-local static would hold its
  // initialisation guard across the import, which may release the GIL: a deadlock with a second
  // thread waiting on the guard).
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> ndarray;
  const py::object& type =
      ndarray.call_once_and_store_result([] { return py::module_::import("numpy").attr("ndarray"); }).get_stored();
  return Py_TYPE(h.ptr()) == reinterpret_cast<PyTypeObject*>(type.ptr());
}

bool plain_sequence(py::handle h) { return PyList_CheckExact(h.ptr()) || PyTuple_CheckExact(h.ptr()); }

}  // namespace

bool chrom_ids_of_str_array(const engine::Collection& collection, const py::array& names, uint32_t* out) {
  if (names.ndim() != 1 || names.dtype().kind() != 'U' || names.dtype().byteorder() == '>' ||
      !(names.flags() & py::array::c_style) || reinterpret_cast<uintptr_t>(names.data()) % alignof(char32_t) != 0) {
    return false;  // read as native char32_t below: contiguous, aligned, native byte order only
  }
  const size_t n = static_cast<size_t>(names.size());
  const size_t width = static_cast<size_t>(names.itemsize()) / sizeof(char32_t);
  const auto* items = static_cast<const char32_t*>(names.data());
  auto look_up = [&] {
    std::string name;
    name.reserve(width);
    for (size_t i = 0; i < n; ++i) {
      const char32_t* item = items + i * width;
      // Windows of one chromosome often come in a row: an item equal to the one before takes its id.
      if (i > 0 && std::char_traits<char32_t>::compare(item, item - width, width) == 0) {
        out[i] = out[i - 1];
        continue;
      }
      name.clear();
      size_t j = 0;
      for (; j < width && item[j] != 0; ++j) {
        if (item[j] >= 0x80) return false;  // not ASCII: left to Python's own encoding of names
        name.push_back(static_cast<char>(item[j]));
      }
      // numpy pads with NULs but keeps one inside a name, which no name has: Python refuses it.
      for (; j < width; ++j) {
        if (item[j] != 0) return false;
      }
      const int32_t id = collection.find_chrom(name);
      if (id < 0) return false;
      out[i] = static_cast<uint32_t>(id);
    }
    return true;
  };
  if (n <= kReleaseGilNames) return look_up();
  py::gil_scoped_release release;
  return look_up();
}

bool plain_chrom_ids(const engine::Collection& collection, py::handle names, std::vector<uint32_t>& ids) {
  if (is_exact_ndarray(names)) {
    const auto array = py::reinterpret_borrow<py::array>(names);
    if (array.ndim() != 1) return false;
    ids.resize(static_cast<size_t>(array.size()));
    return chrom_ids_of_str_array(collection, array, ids.data());
  }
  if (!plain_sequence(names)) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(names.ptr());
  PyObject** items = PySequence_Fast_ITEMS(names.ptr());
  ids.resize(static_cast<size_t>(n));
  std::string name;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    if (!PyUnicode_CheckExact(item)) return false;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(item) != 0) {  // a legacy str: its kind is known only once it is ready
      PyErr_Clear();
      return false;
    }
#endif
    if (!PyUnicode_IS_ASCII(item)) return false;
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(item, &size);  // ASCII: the str's own bytes, no copy
    if (utf8 == nullptr) {
      PyErr_Clear();
      return false;
    }
    name.assign(utf8, static_cast<size_t>(size));
    const int32_t id = collection.find_chrom(name);
    if (id < 0) return false;
    ids[static_cast<size_t>(i)] = static_cast<uint32_t>(id);
  }
  return true;
}

bool plain_coordinates(py::handle values, std::vector<int64_t>& out) {
  auto in_range = [](int64_t v) { return v >= -engine::kMaxCoordinate && v <= engine::kMaxCoordinate; };
  if (is_exact_ndarray(values)) {
    if (!py::isinstance<py::array_t<int64_t>>(values)) return false;  // int64 in native byte order only
    const auto array = py::reinterpret_borrow<py::array>(values);
    if (array.ndim() != 1 || !(array.flags() & py::array::c_style)) return false;
    const auto* data = static_cast<const int64_t*>(array.data());
    out.assign(data, data + array.size());
  } else if (plain_sequence(values)) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(values.ptr());
    PyObject** items = PySequence_Fast_ITEMS(values.ptr());
    out.resize(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (!PyLong_CheckExact(items[i])) return false;  // a bool, a float, a numpy scalar: Python's checks
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(items[i], &overflow);
      if (overflow != 0) return false;
      out[static_cast<size_t>(i)] = static_cast<int64_t>(v);
    }
  } else {
    return false;
  }
  for (const int64_t v : out) {
    if (!in_range(v)) return false;
  }
  return true;
}

bool plain_window_size(py::handle value, uint32_t& out) {
  if (!PyLong_CheckExact(value.ptr())) return false;
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0 || v < 1 || v > static_cast<long long>(UINT32_MAX)) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool plain_default_value(py::handle value, float& out) {
  double v = 0;
  if (PyFloat_CheckExact(value.ptr())) {
    v = PyFloat_AS_DOUBLE(value.ptr());
  } else if (PyLong_CheckExact(value.ptr())) {
    v = PyLong_AsDouble(value.ptr());  // float(value): OverflowError past a double's range
    if (v == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
  } else {
    return false;
  }
  out = static_cast<float>(v);
  return true;
}

}  // namespace bwl::bindings
