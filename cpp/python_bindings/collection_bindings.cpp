// Bindings of the engine's collection: _core.Collection.
#include "python_bindings/collection_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/thread_pool.hpp"
#include "engine/block_preload.hpp"
#include "engine/collection.hpp"
#include "format/block_reader.hpp"
#include "python_bindings/plain_arguments.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

using engine::Collection;
using U32Array = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;
using I64Array = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

template <typename T>
std::vector<T> to_vector(const py::array_t<T, py::array::c_style | py::array::forcecast>& a) {
  if (a.ndim() != 1) throw InvalidArgument("expected a 1-dimensional array");
  return std::vector<T>(a.data(), a.data() + a.size());
}

// A numpy str array (dtype U) to global chromosome ids (plain_arguments.hpp), or None.
py::object chrom_ids_of_names(const Collection& c, const py::array& names) {
  py::array_t<uint32_t> ids(names.ndim() == 1 ? names.size() : 0);
  if (!chrom_ids_of_str_array(c, names, ids.mutable_data())) return py::none();
  return std::move(ids);
}

}  // namespace

void bind_collection(py::module_& m) {
  py::class_<Collection>(m, "Collection", "Many bigWig files opened together (the C++ engine).")
      .def(py::init([](const std::vector<std::string>& paths, size_t n_threads, uint64_t cache_bytes,
                       const std::vector<std::shared_ptr<io::ByteSource>>& sources) {
             // None for a local path: the collection opens it.
             const std::vector<std::shared_ptr<const io::ByteSource>> opened(sources.begin(), sources.end());
             return std::make_unique<Collection>(paths, n_threads, cache_bytes, opened);
           }),
           py::arg("paths"), py::arg("n_threads") = 0, py::arg("cache_bytes") = 0,
           py::arg("sources") = std::vector<std::shared_ptr<io::ByteSource>>{},
           py::call_guard<py::gil_scoped_release>())
      .def(
          "cache_info",
          [](const Collection& c) {
            const engine::CacheInfo i = c.cache().info();
            return py::make_tuple(i.hits, i.misses, i.evictions, i.blocks, i.bytes, i.max_bytes);
          },
          "(hits, misses, evictions, blocks, bytes, max_bytes) of the cache of decoded blocks")
      .def(
          "set_cache_bytes", [](const Collection& c, uint64_t bytes) { c.cache().set_max_bytes(bytes); },
          py::arg("bytes"), py::call_guard<py::gil_scoped_release>(),
          "A new bound for the cache (0: off); evicts down to it at once")
      .def(
          "cache_clear", [](const Collection& c) { c.cache().clear(); }, py::call_guard<py::gil_scoped_release>())
      .def(
          "preload",
          [](const Collection& c, const U32Array& chroms, const I64Array& starts, const I64Array& ends,
             size_t n_threads) {
            const std::vector<uint32_t> ch = to_vector(chroms);
            const std::vector<int64_t> st = to_vector(starts), en = to_vector(ends);
            engine::PreloadResult r;
            {
              py::gil_scoped_release release;
              ThreadPool pool(n_threads);
              r = engine::preload_blocks(c, ch, st, en, pool);
            }
            return py::make_tuple(r.blocks, r.cached, r.full);
          },
          py::arg("chroms"), py::arg("starts"), py::arg("ends"), py::arg("n_threads") = 0,
          "Decodes the blocks under the regions into the cache, never evicting; returns (blocks, cached, full)")
      .def("__len__", &Collection::n_files)
      .def_property_readonly("chrom_names", &Collection::chrom_names)
      .def_property_readonly("chrom_sizes", &Collection::chrom_sizes)
      .def("find_chrom", &Collection::find_chrom, py::arg("name"))
      .def("chrom_ids_of_names", &chrom_ids_of_names, py::arg("names"),
           "The global ids (uint32) of a C-contiguous 1-d numpy array of str (dtype U); None when "
           "an item is not ASCII or not a name any file has (the caller's checks then name it)")
      .def("file_chroms",
           [](const Collection& c, size_t f) {
             if (f >= c.n_files()) throw InvalidArgument("file index out of range");
             py::list out;
             for (const auto& chrom : c.file(f).chroms()) out.append(py::make_tuple(chrom.name, chrom.size));
             return out;
           })
      .def(
          "presence",
          [](const Collection& c) {
            py::array_t<bool> present({c.n_files(), c.chrom_names().size()});
            auto p = present.mutable_unchecked<2>();
            for (size_t f = 0; f < c.n_files(); ++f) {
              for (size_t k = 0; k < c.chrom_names().size(); ++k) {
                p(f, k) = c.local_chrom(f, static_cast<uint32_t>(k)) != engine::kAbsent;
              }
            }
            return present;
          },
          "bool array (files, chromosomes): which file has which chromosome of the global table")
      .def(
          "file_intervals",
          [](const Collection& c, size_t f, const std::string& chrom) {
            if (f >= c.n_files()) throw InvalidArgument("file index out of range");
            const format::BigWigFile& file = c.file(f);
            const size_t ci = file.chrom_index(chrom);
            std::vector<stages::Run> runs;
            {
              py::gil_scoped_release release;
              runs = file.intervals(ci, 0, file.chroms()[ci].size, format::thread_block_scratch());
            }
            const auto n = static_cast<py::ssize_t>(runs.size());
            py::array_t<int64_t> starts(n), ends(n);
            py::array_t<float> values(n);
            int64_t* s = starts.mutable_data();
            int64_t* e = ends.mutable_data();
            float* v = values.mutable_data();
            for (size_t i = 0; i < runs.size(); ++i) {
              s[i] = runs[i].start;
              e[i] = runs[i].end;
              v[i] = runs[i].value;
            }
            return py::make_tuple(starts, ends, values);
          },
          py::arg("file"), py::arg("chrom"));
}

}  // namespace bwl::bindings
