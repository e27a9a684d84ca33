// Binding of writer::BigWigWriter: arrays arrive as C-contiguous int64 / float32 (the Python
// wrapper converts and checks dtypes), and every call that encodes, compresses or writes runs
// with the GIL released. The arrays stay alive (held by the call's arguments) meanwhile.
#include "python_bindings/writer_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "writer/bigwig_writer.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

using Int64Array = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

void check_1d(const py::array& a, const char* name) {
  if (a.ndim() != 1) throw InvalidArgument(std::string(name) + " must be one-dimensional");
}

}  // namespace

void bind_writer(py::module_& m) {
  using writer::BigWigWriter;
  py::class_<BigWigWriter>(m, "BigWigWriter", "The C++ bigWig writer. Use bigwig_loader.BigWigWriter instead.")
      .def(py::init([](const std::string& path, const std::vector<std::pair<std::string, int64_t>>& chroms,
                       bool keep_nan, int compression_level) {
             writer::WriterOptions options;
             options.keep_nan = keep_nan;
             options.compression_level = compression_level;
             py::gil_scoped_release release;
             return std::make_unique<BigWigWriter>(path, chroms, options);
           }),
           py::arg("path"), py::arg("chroms"), py::arg("keep_nan"), py::arg("compression_level"))
      .def_property_readonly("path", &BigWigWriter::path)
      .def_property_readonly("closed", &BigWigWriter::closed)
      .def(
          "add_intervals",
          [](BigWigWriter& w, const std::string& chrom, const Int64Array& starts, const Int64Array& ends,
             const FloatArray& values) {
            check_1d(starts, "starts");
            check_1d(ends, "ends");
            check_1d(values, "values");
            const auto n = static_cast<size_t>(starts.size());
            if (static_cast<size_t>(ends.size()) != n || static_cast<size_t>(values.size()) != n)
              throw InvalidArgument(chrom + ": starts, ends and values differ in length (" + std::to_string(n) + ", " +
                                    std::to_string(ends.size()) + ", " + std::to_string(values.size()) + ")");
            py::gil_scoped_release release;
            w.add_intervals(chrom, starts.data(), ends.data(), values.data(), n);
          },
          py::arg("chrom"), py::arg("starts"), py::arg("ends"), py::arg("values"))
      .def(
          "add_values",
          [](BigWigWriter& w, const std::string& chrom, int64_t start, const FloatArray& values, int64_t span,
             int64_t step, bool fixed_step) {
            check_1d(values, "values");
            if (span < 1 || span > int64_t{UINT32_MAX}) throw InvalidArgument(chrom + ": span must be in [1, 2^32)");
            if (step < 1 || step > int64_t{UINT32_MAX}) throw InvalidArgument(chrom + ": step must be in [1, 2^32)");
            py::gil_scoped_release release;
            w.add_values(chrom, start, values.data(), static_cast<size_t>(values.size()), static_cast<uint32_t>(span),
                         static_cast<uint32_t>(step), fixed_step);
          },
          py::arg("chrom"), py::arg("start"), py::arg("values"), py::arg("span"), py::arg("step"),
          py::arg("fixed_step"))
      .def("close", &BigWigWriter::close, py::call_guard<py::gil_scoped_release>(),
           "Writes the index, zoom levels and header, and renames the file into place.")
      .def("abort", &BigWigWriter::abort, "Drops everything written; the temporary file is removed.");
}

}  // namespace bwl::bindings
