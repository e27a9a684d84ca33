// Bindings of the benchmark-only measurements (target bwl_bench).
#include "bindings/benchmark_bindings.hpp"

#include "engine/batch_plan.hpp"
#include "engine/collection.hpp"
#include "inflate_floor.hpp"

namespace py = pybind11;

namespace bwl::bindings {

void bind_benchmarks(py::module_& m) {
  m.def(
      "inflate_floor",
      [](const engine::Collection& collection, const engine::BatchRequest& request, size_t n_threads, int repeats) {
        bench::InflateFloor f;
        {
          py::gil_scoped_release release;
          f = bench::measure_inflate_floor(collection, engine::plan_batch(collection, request), n_threads, repeats);
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

}  // namespace bwl::bindings
