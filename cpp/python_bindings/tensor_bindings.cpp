#include "python_bindings/tensor_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>

#include "common/errors.hpp"
#include "tensor/dlpack_export.hpp"
#include "tensor/transforms.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

constexpr const char* kCapsuleName = "dltensor";
constexpr const char* kUsedCapsuleName = "used_dltensor";

}  // namespace

// Frees the tensor when a capsule dies unconsumed; a consumer renames the capsule when it takes
// ownership, and then calls the deleter itself.
static void capsule_destructor(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, kCapsuleName)) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsuleName));
    if (managed && managed->deleter) managed->deleter(managed);
  }
}

py::object to_capsule(std::shared_ptr<Tensor> tensor, void* data, DLDevice device) {
  DLManagedTensor* managed = export_dlpack(std::move(tensor), data, device);
  PyObject* capsule = PyCapsule_New(managed, kCapsuleName, capsule_destructor);
  if (capsule == nullptr) {
    managed->deleter(managed);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(capsule);
}

namespace {

py::object host_capsule(std::shared_ptr<HostTensor> tensor) {
  void* data = tensor->data();
  return to_capsule(std::move(tensor), data, DLDevice{kDLCPU, 0});
}

py::object dlpack(const std::shared_ptr<HostTensor>& self, const py::object& stream, const py::object& max_version,
                  const py::object& dl_device, const py::object& copy) {
  (void)max_version;  // we produce the unversioned capsule, which every consumer accepts
  if (!stream.is_none()) {
    throw py::buffer_error("a host tensor takes no stream: pass stream=None");
  }
  if (!dl_device.is_none()) {
    auto device = dl_device.cast<std::pair<int, int>>();
    if (device.first != kDLCPU) throw py::buffer_error("this tensor lives in host memory (kDLCPU)");
  }
  if (!copy.is_none() && copy.cast<bool>()) {
    auto duplicate = std::make_shared<HostTensor>(self->shape(), self->dtype());
    std::memcpy(duplicate->data(), self->data(), self->nbytes());
    return host_capsule(std::move(duplicate));
  }
  return host_capsule(self);
}

}  // namespace

py::array host_array(const std::shared_ptr<HostTensor>& t) {
  if (t->dtype() == DType::BFloat16) {
    throw py::type_error("numpy has no bfloat16: take a bfloat16 tensor with torch.from_dlpack");
  }
  const py::dtype np_dtype = t->dtype() == DType::Float32 ? py::dtype::of<float>() : py::dtype::of<uint8_t>();
  return py::array(np_dtype, t->shape(), t->data(), py::cast(t));
}

std::pair<int64_t, int64_t> row_slice(const Tensor& t, const py::slice& rows) {
  if (t.shape().empty()) throw py::type_error("a 0-dimensional tensor cannot be sliced");
  py::ssize_t start, stop, step, length;
  if (!rows.compute(static_cast<py::ssize_t>(t.shape()[0]), &start, &stop, &step, &length)) {
    throw py::error_already_set();
  }
  if (step != 1) throw py::value_error("a tensor is sliced along its first axis with step 1 only");
  return {start, start + length};
}

void bind_tensor(py::module_& m) {
  // The common base, registered so that a Tensor the loader hands back as its base type reaches
  // Python as its concrete class (host Tensor or CudaTensor).
  py::class_<Tensor, std::shared_ptr<Tensor>>(m, "_TensorBase");
  py::class_<HostTensor, Tensor, std::shared_ptr<HostTensor>>(
      m, "Tensor", py::buffer_protocol(),
      "A C-contiguous tensor owned by bigwig-loader. Take it without a copy with torch.from_dlpack,\n"
      "numpy.from_dlpack (read-only: DLPack 0.6 capsules carry no writable flag) or, for float32,\n"
      "numpy.asarray (writable, through the buffer protocol); it stays valid for as long as anything\n"
      "refers to it.")
      .def_buffer([](HostTensor& t) -> py::buffer_info {
        if (t.dtype() == DType::BFloat16) {
          throw py::buffer_error("numpy has no bfloat16: take a bfloat16 tensor with torch.from_dlpack");
        }
        const auto item = static_cast<py::ssize_t>(dtype_bytes(t.dtype()));
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(shape.size());
        py::ssize_t stride = item;
        for (size_t i = shape.size(); i-- > 0;) {
          strides[i] = stride;
          stride *= shape[i];
        }
        const std::string format = t.dtype() == DType::Float32 ? py::format_descriptor<float>::format()
                                                               : py::format_descriptor<uint8_t>::format();
        return py::buffer_info(t.data(), item, format, static_cast<py::ssize_t>(shape.size()), shape, strides);
      })
      .def_property_readonly("shape",
                             [](const HostTensor& t) {
                               py::tuple shape(t.shape().size());
                               for (size_t i = 0; i < t.shape().size(); ++i) shape[i] = t.shape()[i];
                               return shape;
                             })
      // numpy.asarray uses the buffer above; where that fails (bfloat16) it would otherwise wrap
      // the tensor in an object array: refuse clearly instead.
      .def(
          "__array__",
          [](const std::shared_ptr<HostTensor>& t, const py::object& dtype, const py::object& copy) -> py::object {
            py::array view = host_array(t);
            if (!copy.is_none() && copy.cast<bool>()) view = view.attr("copy")();
            return dtype.is_none() ? py::object(view) : view.attr("astype")(dtype);
          },
          py::arg("dtype") = py::none(), py::kw_only(), py::arg("copy") = py::none())
      // bigwig-loader 0.3 handed bfloat16 batches out as uint16 arrays (CuPy has no bfloat16);
      // this is that view on the host, so numpy users keep the same code.
      .def(
          "uint16_view",
          [](const std::shared_ptr<HostTensor>& t) -> py::object {
            if (t->dtype() != DType::BFloat16) throw py::type_error("uint16_view is for bfloat16 tensors");
            return py::array(py::dtype::of<uint16_t>(), t->shape(), t->data(), py::cast(t));
          },
          "The bfloat16 bit patterns as a writable numpy uint16 array sharing this tensor's memory\n"
          "(torch.from_numpy(a).view(torch.bfloat16) reinterprets it without a copy).")
      .def("__len__", [](const HostTensor& t) { return t.shape().empty() ? 0 : t.shape()[0]; })
      .def(
          "__getitem__",
          [](const HostTensor& t, const py::slice& rows) {
            const auto [start, stop] = row_slice(t, rows);
            return t.rows(start, stop);
          },
          "Rows along the first (batch) axis, sharing memory: tensor[a:b].")
      .def_property_readonly("dtype", [](const HostTensor& t) { return dtype_name(t.dtype()); })
      .def_property_readonly("device", [](const HostTensor&) { return "cpu"; })
      .def_property_readonly("nbytes", &HostTensor::nbytes)
      .def("__dlpack__", &dlpack, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
           py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack_device__", [](const HostTensor&) { return py::make_tuple(static_cast<int>(kDLCPU), 0); })
      .def("__repr__", [](const HostTensor& t) {
        std::string s = "bigwig_loader.Tensor(shape=(";
        for (size_t i = 0; i < t.shape().size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape()[i]);
        return s + "), dtype=" + dtype_name(t.dtype()) + ", device=cpu)";
      });
}

void bind_tensor_transforms(py::module_& m) {
  m.def(
      "flip_rows",
      [](HostTensor& t, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation) {
        py::gil_scoped_release release;
        flip_rows(t, flip, permutation);
      },
      py::arg("tensor"), py::arg("flip"), py::arg("permutation"),
      "In place: rows with flip set get their length axis reversed and channels permuted.");
  m.def(
      "moving_average_rows",
      [](HostTensor& t, int64_t width) {
        py::gil_scoped_release release;
        moving_average_rows(t, width);
      },
      py::arg("tensor"), py::arg("width"), "In place: centred moving average along the length axis.");
}

BorrowedOutput::BorrowedOutput(const py::object& array, const std::vector<int64_t>& shape, DType dtype) {
  if (!py::hasattr(array, "__dlpack__")) {
    throw InvalidArgument("out must be an array with the DLPack protocol (numpy, torch, ...), got " +
                          std::string(py::str(py::type::of(array).attr("__name__"))));
  }
  try {
    capsule_ = array.attr("__dlpack__")();
  } catch (py::error_already_set& e) {
    throw InvalidArgument(std::string("out cannot be written through DLPack: ") + e.what());
  }
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule_.ptr(), kCapsuleName));
  if (managed == nullptr) {
    PyErr_Clear();
    throw InvalidArgument("out.__dlpack__() did not return a DLPack capsule");
  }
  data_ = checked_output_view(managed->dl_tensor, shape, dtype, "out");
  // Take ownership as a consumer does: rename the capsule so that its destructor leaves the
  // tensor to us, and call the producer's deleter when we are done.
  PyCapsule_SetName(capsule_.ptr(), kUsedCapsuleName);
  managed_ = managed;
}

BorrowedOutput::~BorrowedOutput() {
  auto* managed = static_cast<DLManagedTensor*>(managed_);
  if (managed && managed->deleter) managed->deleter(managed);
}

}  // namespace bwl::bindings
