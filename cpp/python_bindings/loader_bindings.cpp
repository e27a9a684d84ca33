// Bindings of the loader layer. Waits are short and repeated from Python, so that Ctrl-C and
// shutdown are noticed between them; the GIL is released while waiting and loading.
#include "python_bindings/loader_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>

#include "python_bindings/processor_factory.hpp"
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
  py::class_<StreamedDataloader>(m, "StreamedDataloader",
                                 "The C++ StreamedDataloader: use bigwig_loader.StreamedDataloader instead.")
      .def(py::init([](const engine::Collection& collection, size_t num_workers, size_t queue_size,
                       size_t threads_per_worker, int device, size_t staging_bytes, size_t inflate_cap) {
             const ProcessorSettings settings{device, threads_per_worker, staging_bytes, inflate_cap};
             std::vector<std::unique_ptr<engine::BatchProcessor>> processors;
             for (size_t i = 0; i < num_workers; ++i) processors.push_back(make_processor(settings));
             return std::make_unique<StreamedDataloader>(collection, std::move(processors), queue_size);
           }),
           py::arg("collection"), py::arg("num_workers"), py::arg("queue_size"), py::arg("threads_per_worker") = 1,
           py::arg("device") = engine::kCpuDevice, py::kw_only(), py::arg("staging_bytes") = 0,
           py::arg("inflate_cap") = 0, py::keep_alive<1, 2>(),
           "device: -1 for the CPU, N for CUDA device N (each worker gets its own stream and scratch). Each "
           "worker's processor is made as make_processor makes one: threads_per_worker, staging_bytes and "
           "inflate_cap mean what make_processor's threads, staging_bytes and inflate_cap mean.")
      .def(
          "submit",
          [](StreamedDataloader& self, const engine::BatchRequest& request, int timeout_ms) {
            engine::BatchRequest copy = request;  // the loader owns its requests; Python may reuse its object
            py::gil_scoped_release release;
            return status_name(self.submit(std::move(copy), std::chrono::milliseconds(timeout_ms)));
          },
          py::arg("request"), py::arg("timeout_ms"),
          "Queues one batch; returns 'ready', 'timeout' (no room yet) or 'closed'.")
      .def(
          "next",
          [](StreamedDataloader& self, int timeout_ms) -> py::object {
            engine::LoadedBatch batch;
            loader::WaitResult r;
            {
              py::gil_scoped_release release;
              r = self.next(batch, std::chrono::milliseconds(timeout_ms));
            }
            if (r != loader::WaitResult::Ready) return py::str(status_name(r));
            if (batch.sequences) return py::make_tuple(batch.values, batch.sequences);
            return py::cast(batch.values);
          },
          py::arg("timeout_ms"),
          "The next batch in submission order: its values tensor (Tensor or CudaTensor), or (values, sequences) when "
          "its request has bases; or 'timeout' / 'closed'. Raises that batch's error.")
      .def("close", &StreamedDataloader::close, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("closed", &StreamedDataloader::closed)
      .def_property_readonly("num_workers", &StreamedDataloader::num_workers);
}

}  // namespace bwl::bindings
