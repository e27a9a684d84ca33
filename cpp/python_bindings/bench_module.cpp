// bigwig_loader._bench: the benchmark-only measurements (benchmarks/cpp, target bwl_bench), a
// module of their own so that the shipped _core does not carry them. Built only with
// -DBWL_BUILD_BENCH=ON (scripts/setup.sh's development install has it; the wheel does not), for
// benchmarks/harness.py. Its arguments are _core's types: pybind11 shares registered types
// between the modules of one build, so _core is imported first.
#include <pybind11/pybind11.h>

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "inflate_floor.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_bench, m) {
  m.doc() = "bigwig-loader's benchmark-only measurements (not in the wheel)";
  py::module_::import("bigwig_loader._core");  // registers Collection and BatchRequest
  m.def(
      "inflate_floor",
      [](const bwl::engine::Collection& collection, const bwl::engine::BatchRequest& request, size_t n_threads,
         int repeats) {
        bwl::bench::InflateFloor f;
        {
          py::gil_scoped_release release;
          f = bwl::bench::measure_inflate_floor(collection, bwl::engine::plan_batch(collection, request), n_threads,
                                                repeats);
        }
        py::dict d;
        d["seconds"] = f.seconds;
        d["blocks"] = f.blocks;
        d["compressed_bytes"] = f.compressed_bytes;
        d["inflated_bytes"] = f.inflated_bytes;
        return d;
      },
      py::arg("collection"), py::arg("request"), py::arg("n_threads"), py::arg("repeats") = 5,
      "Benchmark floor: seconds for libdeflate to inflate exactly the unique blocks of this batch, from memory, on "
      "n_threads threads (best of `repeats`).");
}
