// bigwig_loader._core: the one binding source. It converts arguments, releases the GIL around
// every call that reads or decodes, and maps C++ exceptions to Python ones (here, in one place).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <string>

#include "python_bindings/collection_bindings.hpp"
#include "python_bindings/fasta_bindings.hpp"
#include "python_bindings/loader_bindings.hpp"
#include "python_bindings/processor_bindings.hpp"
#include "python_bindings/remote_bindings.hpp"
#include "python_bindings/survey_bindings.hpp"
#include "python_bindings/tensor_bindings.hpp"
#include "python_bindings/writer_bindings.hpp"
#include "common/errors.hpp"
#include "common/thread_start.hpp"
#include "format/bigwig_file.hpp"
#include "stages/host_inflate.hpp"
#include "writer/block_deflater.hpp"

#ifdef BWL_HAVE_CUDA
#include "python_bindings/cuda_bindings.hpp"
#include "device_probe.hpp"
#endif

namespace py = pybind11;
using bwl::format::BigWigFile;

namespace {

// bigwig_loader.DeviceError, a RuntimeError: the device asked for cannot be used.
PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> device_error;
// bigwig_loader.FileChangedError, an OSError: a file changed after it was opened.
PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> file_changed_error;
// bigwig_loader.RemoteReadError, an OSError: a remote range outlasted the retries.
PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> remote_read_error;

void register_exception_mapping(py::module_& m) {
  device_error.call_once_and_store_result([&] {
    return py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
        "bigwig_loader._core.DeviceError",
        "The compute device asked for cannot be used (no GPU, a build without CUDA, or a CUDA "
        "runtime error).",
        PyExc_RuntimeError, nullptr));
  });
  m.attr("DeviceError") = device_error.get_stored();
  file_changed_error.call_once_and_store_result([&] {
    return py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
        "bigwig_loader._core.FileChangedError",
        "A file was rewritten, replaced or removed after it was opened: open it again.", PyExc_OSError, nullptr));
  });
  m.attr("FileChangedError") = file_changed_error.get_stored();
  remote_read_error.call_once_and_store_result([&] {
    return py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
        "bigwig_loader._core.RemoteReadError",
        "A range of a remote object could not be read: a transient fault (timeout, 5xx, a reset or short "
        "body) outlasted the retries. Names the URL, the byte range and the cause.",
        PyExc_OSError, nullptr));
  });
  m.attr("RemoteReadError") = remote_read_error.get_stored();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const bwl::FileNotFound& e) {
      py::set_error(PyExc_FileNotFoundError, e.what());
    } catch (const bwl::UnknownChromosome& e) {
      py::set_error(PyExc_KeyError, e.what());
    } catch (const bwl::InvalidArgument& e) {
      py::set_error(PyExc_ValueError, e.what());
    } catch (const bwl::DeviceError& e) {
      py::set_error(device_error.get_stored().ptr(), e.what());
    } catch (const bwl::FileChanged& e) {
      py::set_error(file_changed_error.get_stored().ptr(), e.what());
    } catch (const bwl::RemoteReadFailed& e) {
      py::set_error(remote_read_error.get_stored().ptr(), e.what());
    } catch (const bwl::PermissionDenied& e) {
      py::set_error(PyExc_PermissionError, e.what());
    } catch (const bwl::Error& e) {
      py::set_error(PyExc_OSError, e.what());
    }
  });
  // bigwig_loader.BigWigError, a ValueError so that `except ValueError` keeps working.
  // Registered last, so that it is tried first.
  py::register_exception<bwl::FormatError>(m, "BigWigError", PyExc_ValueError);
}

py::dict header_dict(const BigWigFile& f) {
  const bwl::format::BbiHeader& h = f.header();
  py::dict d;
  d["version"] = h.version;
  d["zoom_levels"] = h.zoom_levels;
  d["chrom_tree_offset"] = h.chrom_tree_offset;
  d["full_data_offset"] = h.full_data_offset;
  d["full_index_offset"] = h.full_index_offset;
  d["field_count"] = h.field_count;
  d["defined_field_count"] = h.defined_field_count;
  d["auto_sql_offset"] = h.auto_sql_offset;
  d["total_summary_offset"] = h.total_summary_offset;
  d["uncompress_buf_size"] = h.uncompress_buf_size;
  d["compressed"] = h.compressed();
  py::list zooms;
  for (const auto& z : h.zooms) {
    py::dict zd;
    zd["reduction_level"] = z.reduction_level;
    zd["data_offset"] = z.data_offset;
    zd["index_offset"] = z.index_offset;
    zooms.append(zd);
  }
  d["zooms"] = zooms;
  if (h.total_summary) {
    py::dict s;
    s["bases_covered"] = h.total_summary->bases_covered;
    s["min"] = h.total_summary->min_value;
    s["max"] = h.total_summary->max_value;
    s["sum"] = h.total_summary->sum;
    s["sum_squares"] = h.total_summary->sum_squares;
    d["total_summary"] = s;
  } else {
    d["total_summary"] = py::none();
  }
  d["block_count"] = f.block_index().blocks().size();
  return d;
}

void bind_bigwig_file(py::module_& m) {
  py::class_<BigWigFile>(m, "BigWigFile", "One open bigWig file (the C++ reader). Use bigwig_loader.BigWig instead.")
      .def(py::init<const std::string&>(), py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def(py::init([](std::shared_ptr<bwl::io::ByteSource> source) {
             return std::make_unique<BigWigFile>(std::shared_ptr<const bwl::io::ByteSource>(std::move(source)));
           }),
           py::arg("source"), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("path", &BigWigFile::path)
      .def_property_readonly("chroms",
                             [](const BigWigFile& f) {
                               py::list out;
                               for (const auto& c : f.chroms()) out.append(py::make_tuple(c.name, c.size));
                               return out;
                             })
      .def_property_readonly("header", &header_dict)
      .def(
          "values",
          [](const BigWigFile& f, const std::string& chrom, int64_t start, int64_t end, float default_value) {
            const size_t ci = f.chrom_index(chrom);
            f.check_range(ci, start, end);
            py::array_t<float> out(static_cast<py::ssize_t>(end - start));
            float* dst = out.mutable_data();
            {
              py::gil_scoped_release release;
              f.values(ci, static_cast<uint32_t>(start), static_cast<uint32_t>(end), default_value, dst,
                       bwl::format::thread_block_scratch());
            }
            return out;
          },
          py::arg("chrom"), py::arg("start"), py::arg("end"), py::arg("default_value"))
      .def(
          "intervals",
          [](const BigWigFile& f, const std::string& chrom, int64_t start, int64_t end) {
            const size_t ci = f.chrom_index(chrom);
            f.check_range(ci, start, end);
            std::vector<bwl::stages::Run> runs;
            {
              py::gil_scoped_release release;
              runs = f.intervals(ci, static_cast<uint32_t>(start), static_cast<uint32_t>(end),
                                 bwl::format::thread_block_scratch());
            }
            const auto n = static_cast<py::ssize_t>(runs.size());
            py::array_t<int64_t> starts(n), ends(n);
            py::array_t<float> values(n);
            auto s = starts.mutable_unchecked<1>();
            auto e = ends.mutable_unchecked<1>();
            auto v = values.mutable_unchecked<1>();
            for (py::ssize_t i = 0; i < n; ++i) {
              s(i) = runs[static_cast<size_t>(i)].start;
              e(i) = runs[static_cast<size_t>(i)].end;
              v(i) = runs[static_cast<size_t>(i)].value;
            }
            return py::make_tuple(starts, ends, values);
          },
          py::arg("chrom"), py::arg("start"), py::arg("end"));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "bigwig-loader's compiled core";
  m.attr("__version__") = BWL_VERSION;
  m.attr("inflate_backend") = bwl::stages::HostInflater::backend_name();
  m.attr("deflate_backend") = bwl::writer::BlockDeflater::backend_name();
  register_exception_mapping(m);
  bwl::bindings::bind_remote(m);
  bind_bigwig_file(m);
  bwl::bindings::bind_tensor(m);
  bwl::bindings::bind_tensor_transforms(m);
  bwl::bindings::bind_collection(m);
  bwl::bindings::bind_processors(m);
  bwl::bindings::bind_fasta(m);
  bwl::bindings::bind_loader(m);
  bwl::bindings::bind_survey(m);
  bwl::bindings::bind_writer(m);
  m.def("_fail_thread_starts_after", &bwl::testing::fail_thread_starts_after, py::arg("n"),
        "Test hook: the next n thread starts succeed, later ones fail as if the system refused them; n < 0 "
        "turns this off.");

#ifdef BWL_HAVE_CUDA
  m.attr("built_with_cuda") = true;
  bwl::bindings::bind_cuda(m);
  m.def("cuda_device_count", &bwl::cuda::device_count, "CUDA devices visible to this process (0 without a driver).");
  m.def("cuda_unavailable_reason", &bwl::cuda::unavailable_reason);
#else
  m.attr("built_with_cuda") = false;
  m.def(
      "cuda_device_count", [] { return 0; }, "This build has no CUDA backend: always 0.");
  m.def("cuda_unavailable_reason", [] { return "bigwig-loader was built without CUDA"; });
#endif
}
