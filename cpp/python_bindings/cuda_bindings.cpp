#include "python_bindings/cuda_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "python_bindings/tensor_bindings.hpp"
#include "cuda_batch_processor.hpp"
#include "device_tensor.hpp"
#include "device_transforms.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

using cuda::DeviceTensor;

// __dlpack__ of a device tensor: the consumer's stream waits on the batch's last kernel (no
// host wait), then the capsule views the device memory.
py::object dlpack(const std::shared_ptr<DeviceTensor>& self, const py::object& stream, const py::object& max_version,
                  const py::object& dl_device, const py::object& copy) {
  (void)max_version;  // the unversioned capsule, which every consumer accepts
  if (!dl_device.is_none()) {
    const auto device = dl_device.cast<std::pair<int, int>>();
    if (device.first != kDLCUDA || device.second != self->device()) {
      throw py::buffer_error("this tensor lives on CUDA device " + std::to_string(self->device()));
    }
  }
  if (!copy.is_none() && copy.cast<bool>())
    throw py::buffer_error("copy=True is not supported: copy with the consumer");
  int64_t handle = 0;
  const int64_t* stream_arg = nullptr;
  if (!stream.is_none()) {
    handle = stream.cast<int64_t>();
    stream_arg = &handle;
  }
  cudaStream_t consumer;
  if (cuda::consumer_stream(stream_arg, &consumer)) self->make_stream_wait(consumer);
  return to_capsule(self, self->data(), DLDevice{kDLCUDA, self->device()});
}

py::tuple shape_tuple(const Tensor& t) {
  py::tuple shape(t.shape().size());
  for (size_t i = 0; i < t.shape().size(); ++i) shape[i] = t.shape()[i];
  return shape;
}

void bind_cuda_tensor(py::module_& m) {
  py::class_<DeviceTensor, Tensor, std::shared_ptr<DeviceTensor>>(
      m, "CudaTensor",
      "A C-contiguous tensor in CUDA device memory owned by bigwig-loader. Take it without a copy\n"
      "with torch.from_dlpack or cupy.from_dlpack: the consumer's stream waits for the batch's\n"
      "kernels. to_host() copies it to a host Tensor.")
      .def_property_readonly("shape", [](const DeviceTensor& t) { return shape_tuple(t); })
      .def_property_readonly("dtype", [](const DeviceTensor& t) { return dtype_name(t.dtype()); })
      .def_property_readonly("device", [](const DeviceTensor& t) { return "cuda:" + std::to_string(t.device()); })
      .def_property_readonly("nbytes", &DeviceTensor::nbytes)
      .def_property_readonly(
          "data_ptr", [](const DeviceTensor& t) { return reinterpret_cast<uintptr_t>(t.data()); },
          "The device address of the first element (what a zero-copy consumer views).")
      .def("__len__", [](const DeviceTensor& t) { return t.shape().empty() ? 0 : t.shape()[0]; })
      .def(
          "__getitem__",
          [](const DeviceTensor& t, const py::slice& rows) {
            const auto [start, stop] = row_slice(t, rows);
            return t.rows(start, stop);
          },
          "Rows along the first (batch) axis, sharing memory: tensor[a:b].")
      .def(
          "to_host",
          [](const DeviceTensor& t) {
            auto host = std::make_shared<HostTensor>(t.shape(), t.dtype());
            py::gil_scoped_release release;
            t.copy_to_host(host->data());
            return host;
          },
          "A host Tensor with the same contents (waits for the batch's kernels).")
      .def(
          "__array__",
          [](const DeviceTensor&, const py::object&, const py::object&) -> py::object {
            throw py::type_error(
                "a CudaTensor is in device memory: use to_host(), torch.from_dlpack or cupy.from_dlpack");
          },
          py::arg("dtype") = py::none(), py::kw_only(), py::arg("copy") = py::none())
      .def("__dlpack__", &dlpack, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
           py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack_device__",
           [](const DeviceTensor& t) { return py::make_tuple(static_cast<int>(kDLCUDA), t.device()); })
      .def("__repr__", [](const DeviceTensor& t) {
        std::string s = "bigwig_loader.CudaTensor(shape=(";
        for (size_t i = 0; i < t.shape().size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape()[i]);
        return s + "), dtype=" + dtype_name(t.dtype()) + ", device=cuda:" + std::to_string(t.device()) + ")";
      });
}

// Overloads of the host transforms (tensor_bindings.cpp) for device tensors, the host-to-device
// copy, and the tests' stale-error hook.
void bind_device_functions(py::module_& m) {
  m.def(
      "flip_rows",
      [](DeviceTensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
        py::gil_scoped_release release;
        cuda::flip_rows(t, flip, permutation);
      },
      py::arg("tensor"), py::arg("flip"), py::arg("permutation"));
  m.def(
      "moving_average_rows",
      [](DeviceTensor& t, int64_t width) {
        py::gil_scoped_release release;
        cuda::moving_average_rows(t, width);
      },
      py::arg("tensor"), py::arg("width"));
  m.def(
      "to_device",
      [](const HostTensor& t, int device) {
        py::gil_scoped_release release;
        return cuda::to_device(t, device);
      },
      py::arg("tensor"), py::arg("device"), "A CudaTensor copy of a host Tensor on CUDA device `device`.");

  m.def(
      "_cuda_leave_stale_error",
      []() {
        // For the tests: a failed runtime call whose error nobody takes (cudaSetDevice(-1) is
        // non-sticky), as another library on this thread might leave. The next launch must
        // not be blamed for it.
        return static_cast<int>(cudaSetDevice(-1));
      },
      "Tests only: leaves a stale CUDA error on this thread; returns its code.");
}

py::dict stage_times(cuda::CudaBatchProcessor& p) {
  const cuda::StageTimes t = p.stage_times();
  py::dict d;
  d["read_ms"] = t.read_ms;
  d["copy_ms"] = t.copy_ms;
  d["inflate_ms"] = t.inflate_ms;
  d["decode_ms"] = t.decode_ms;
  d["fill_ms"] = t.fill_ms;
  d["batches"] = t.batches;
  return d;
}

void bind_cuda_processor(py::module_& m) {
  // What the CUDA processor has beyond the BatchProcessor interface; make_processor(N) returns
  // one (pybind11 gives Python the most derived registered type).
  py::class_<cuda::CudaBatchProcessor, engine::BatchProcessor, std::shared_ptr<cuda::CudaBatchProcessor>>(
      m, "CudaProcessor", "The batch processor of one CUDA device: its own stream, pinned staging and scratch.")
      .def_property_readonly("inflate_cap", &cuda::CudaBatchProcessor::inflate_cap,
                             "bytes of device scratch for inflated blocks; a batch whose blocks need more is "
                             "inflated in chunks")
      .def("time_stages", &cuda::CudaBatchProcessor::time_stages, py::arg("on"),
           py::call_guard<py::gil_scoped_release>(),
           "Turns stage timing (CUDA events) on or off and resets the sums. For benchmarks: while on, each "
           "stage's end is waited for.")
      .def("stage_times", &stage_times,
           "Milliseconds per stage (read, copy, inflate, decode, fill) summed over the batches run since "
           "time_stages(True).");
}

}  // namespace

void bind_cuda(py::module_& m) {
  bind_cuda_tensor(m);
  bind_device_functions(m);
  bind_cuda_processor(m);
}

}  // namespace bwl::bindings
