// Bindings of the loader layer. Waits are short and repeated from Python, so that Ctrl-C and
// shutdown are noticed between them; the GIL is released while waiting and loading.
#include "bindings/loader_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>

#include "bindings/backend_factory.hpp"
#include "bindings/collection_bindings.hpp"
#include "engine/collection.hpp"
#include "loader/streamed_dataloader.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

const char* status_name(loader::WaitResult r) {
  switch (r) {
    case loader::WaitResult::Ready: return "ready";
    case loader::WaitResult::TimedOut: return "timeout";
    case loader::WaitResult::Closed: return "closed";
  }
  return "?";
}

}  // namespace

void bind_loader(py::module_& m) {
  using loader::StreamedDataloader;
  py::class_<StreamedDataloader>(m, "StreamedLoader",
                                 "The C++ StreamedDataloader: use bigwig_loader.StreamedDataloader instead.")
      .def(py::init([](const engine::Collection& collection, size_t num_workers, size_t queue_size,
                       size_t threads_per_worker, int device) {
             std::vector<std::unique_ptr<engine::BatchBackend>> backends;
             for (size_t i = 0; i < num_workers; ++i) backends.push_back(make_backend(device, threads_per_worker));
             return std::make_unique<StreamedDataloader>(collection, std::move(backends), queue_size);
           }),
           py::arg("collection"), py::arg("num_workers"), py::arg("queue_size"), py::arg("threads_per_worker") = 1,
           py::arg("device") = kCpuDevice, py::keep_alive<1, 2>(),
           "device: -1 for the CPU, N for CUDA device N (each worker gets its own stream and scratch).")
      .def(
          "submit",
          [](StreamedDataloader& self, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& chroms,
             const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& starts, int64_t length,
             uint32_t window_size, float default_value, const std::string& dtype,
             const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& tracks,
             const py::array_t<float, py::array::c_style | py::array::forcecast>& scales, int timeout_ms) {
            engine::BatchRequest request =
                make_request(chroms, starts, length, window_size, default_value, dtype, tracks, scales);
            py::gil_scoped_release release;
            return status_name(self.submit(std::move(request), std::chrono::milliseconds(timeout_ms)));
          },
          py::arg("chroms"), py::arg("starts"), py::arg("length"), py::arg("window_size"), py::arg("default_value"),
          py::arg("dtype"), py::arg("tracks"), py::arg("scales"), py::arg("timeout_ms"),
          "Queues one batch; returns 'ready', 'timeout' (no room yet) or 'closed'.")
      .def(
          "next",
          [](StreamedDataloader& self, int timeout_ms) -> py::object {
            std::shared_ptr<Tensor> values;
            loader::WaitResult r;
            {
              py::gil_scoped_release release;
              r = self.next(values, std::chrono::milliseconds(timeout_ms));
            }
            if (r == loader::WaitResult::Ready) return py::cast(values);
            return py::str(status_name(r));
          },
          py::arg("timeout_ms"),
          "The next batch's tensor (Tensor or CudaTensor) in submission order, or 'timeout' / 'closed'; raises that batch's error.")
      .def("close", &StreamedDataloader::close, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("closed", &StreamedDataloader::closed)
      .def_property_readonly("num_workers", &StreamedDataloader::num_workers);
}

}  // namespace bwl::bindings
