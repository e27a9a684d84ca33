// Bindings of the FASTA layer: _core.FastaFile (with fetch_usable), _core.one_hot, _core.count_unknown.
#include "python_bindings/fasta_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "fasta/fasta_file.hpp"
#include "fasta/one_hot.hpp"
#include "fasta/usable_windows.hpp"
#include "io/mapped_file.hpp"
#include "tensor/tensor.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

using Bases = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using Int64s = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

void check_bases(const Bases& bases) {
  if (bases.ndim() != 2) throw InvalidArgument("bases must be a 2-dimensional uint8 array (batch, length)");
}

py::list records(const fasta::FastaFile& f) {
  py::list out;
  for (const auto& r : f.records()) out.append(py::make_tuple(r.name, r.length));
  return out;
}

// FastaFile.fetch_batch: bases [start, start + length) of each named sequence, (batch, length).
Bases fetch_batch(const fasta::FastaFile& f, const std::vector<std::string>& names, const Int64s& starts,
                  int64_t length) {
  if (static_cast<py::ssize_t>(names.size()) != starts.size()) {
    throw InvalidArgument("names and starts differ in length");
  }
  if (length < 0) throw InvalidArgument("length must not be negative");
  std::vector<size_t> records;
  for (const auto& n : names) {
    const int64_t r = f.find(n);
    if (r < 0) throw UnknownChromosome("sequence '" + n + "' is not in " + f.path());
    records.push_back(static_cast<size_t>(r));
  }
  Bases out({static_cast<py::ssize_t>(names.size()), static_cast<py::ssize_t>(length)});
  auto* dst = reinterpret_cast<char*>(out.mutable_data());
  const int64_t* s = starts.data();
  {
    py::gil_scoped_release release;
    for (size_t i = 0; i < records.size(); ++i) f.read(records[i], s[i], s[i] + length, dst + i * length);
  }
  return out;
}

// FastaFile.fetch_usable: (indices, bases) of the windows fit to train on.
py::tuple fetch_usable(const fasta::FastaFile& f, const Int64s& records, const Int64s& starts, int64_t length,
                       double max_unknown_fraction) {
  if (records.ndim() != 1 || starts.ndim() != 1 || records.size() != starts.size()) {
    throw InvalidArgument("records and starts must be 1-dimensional and of one length");
  }
  const auto n = static_cast<size_t>(records.size());
  size_t fit = 0;
  {
    py::gil_scoped_release release;
    fit = fasta::count_windows_inside(f, records.data(), starts.data(), n, length);
  }
  py::array_t<int64_t> kept(static_cast<py::ssize_t>(fit));
  Bases bases({static_cast<py::ssize_t>(fit), static_cast<py::ssize_t>(length)});
  size_t n_kept = 0;
  {
    py::gil_scoped_release release;
    n_kept = fasta::read_usable_windows(f, records.data(), starts.data(), n, length, max_unknown_fraction,
                                        kept.mutable_data(), reinterpret_cast<char*>(bases.mutable_data()), fit);
  }
  const py::slice first(0, static_cast<py::ssize_t>(n_kept), 1);
  return py::make_tuple(kept[first], bases[first]);
}

std::shared_ptr<HostTensor> one_hot(const Bases& bases, const std::string& dtype) {
  check_bases(bases);
  const DType d = parse_dtype(dtype);
  auto tensor = std::make_shared<HostTensor>(std::vector<int64_t>{bases.shape(0), bases.shape(1), 4}, d);
  const auto* src = reinterpret_cast<const char*>(bases.data());
  const auto n = static_cast<size_t>(bases.size());
  {
    py::gil_scoped_release release;
    fasta::encode_one_hot(src, n, d, tensor->data());
  }
  return tensor;
}

py::array_t<int64_t> count_unknown(const Bases& bases) {
  check_bases(bases);
  py::array_t<int64_t> counts(bases.shape(0));
  const auto* src = reinterpret_cast<const char*>(bases.data());
  const auto length = static_cast<size_t>(bases.shape(1));
  int64_t* dst = counts.mutable_data();
  const py::ssize_t rows = bases.shape(0);
  py::gil_scoped_release release;
  for (py::ssize_t i = 0; i < rows; ++i) {
    dst[i] = static_cast<int64_t>(fasta::count_unknown(src + static_cast<size_t>(i) * length, length));
  }
  return counts;
}

}  // namespace

void bind_fasta(py::module_& m) {
  py::class_<fasta::FastaFile>(m, "FastaFile", "An indexed FASTA file (the C++ reader).")
      .def(py::init<const std::string&>(), py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("path", &fasta::FastaFile::path)
      .def_property_readonly("built_index", &fasta::FastaFile::built_index)
      .def("record_id", &fasta::FastaFile::find, py::arg("name"),
           "The record's position in records (its id for fetch_usable), or -1 when the file has no such record.")
      .def_property_readonly("records", &records)
      .def("fetch_batch", &fetch_batch, py::arg("names"), py::arg("starts"), py::arg("length"),
           "Bases [start, start + length) of each named sequence as a uint8 array (batch, length), case kept.")
      .def("fetch_usable", &fetch_usable, py::arg("records"), py::arg("starts"), py::arg("length"),
           py::arg("max_unknown_fraction"),
           "The windows fit to train on, read in one call: (indices, bases) of those lying inside their record "
           "(an index into records) with at most max_unknown_fraction bases other than A, C, G, T.");

  m.def("one_hot", &one_hot, py::arg("bases"), py::arg("dtype") = "float32",
        "One-hot (batch, length, 4) of a uint8 array of bases, channels A, C, G, T, IUPAC weights.");
  m.def("count_unknown", &count_unknown, py::arg("bases"), "Bases other than A, C, G, T (either case) in each row.");
  m.def("reclaim_fault_handler", &io::fault_guard::reclaim_handler,
        "Puts the SIGBUS handler that guards reads of mapped FASTA files back in front of one installed after it "
        "(a torch DataLoader worker's); returns whether it had to. See io/mapped_file.hpp.");
}

}  // namespace bwl::bindings
