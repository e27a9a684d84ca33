// Bindings of the batch path: the request, the processor interface and its factory. Python
// builds one _core.BatchRequest per batch and hands it whole to a processor or to the loader.
#include "python_bindings/processor_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "python_bindings/plain_arguments.hpp"
#include "python_bindings/processor_factory.hpp"
#include "python_bindings/tensor_bindings.hpp"
#include "common/errors.hpp"
#include "cpu/cpu_batch_processor.hpp"
#include "engine/batch_plan.hpp"
#include "engine/batch_processor.hpp"
#include "engine/collection.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename T>
std::vector<T> to_vector(const Array<T>& a, const char* name) {
  if (a.ndim() != 1) throw InvalidArgument(std::string(name) + " must be a 1-dimensional array");
  return std::vector<T>(a.data(), a.data() + a.size());
}

// A request of these windows and settings, without augmentations, not yet checked against a
// collection: make_request's and load_plain's common part.
engine::BatchRequest windows_request(std::vector<uint32_t> chroms, std::vector<int64_t> starts,
                                     const std::vector<int64_t>& ends, uint32_t window_size, float default_value,
                                     DType dtype, const Array<uint32_t>& tracks, const Array<float>& scales) {
  engine::BatchRequest request;
  engine::set_windows(request, std::move(chroms), std::move(starts), ends);
  request.window_size = window_size;
  request.default_value = default_value;
  request.dtype = dtype;
  request.tracks = to_vector(tracks, "tracks");
  request.scales = to_vector(scales, "scales");
  return request;
}

engine::BatchRequest make_request(const engine::Collection& collection, const Array<uint32_t>& chroms,
                                  const Array<int64_t>& starts, const Array<int64_t>& ends, uint32_t window_size,
                                  float default_value, const std::string& dtype, const Array<uint32_t>& tracks,
                                  const Array<float>& scales, int64_t smoothing, const py::object& flip,
                                  const py::object& flip_tracks, const py::object& bases,
                                  const std::string& sequence_dtype) {
  engine::BatchRequest request =
      windows_request(to_vector(chroms, "chroms"), to_vector(starts, "starts"), to_vector(ends, "ends"), window_size,
                      default_value, parse_value_dtype(dtype), tracks, scales);
  request.smoothing = smoothing;
  if (!flip.is_none()) {
    request.flip = to_vector(flip.cast<Array<uint8_t>>(), "flip");
    request.flip_tracks = to_vector(flip_tracks.cast<Array<int64_t>>(), "flip_tracks");
  }
  if (!bases.is_none()) {
    const auto b = bases.cast<Array<uint8_t>>();
    if (b.ndim() != 2) throw InvalidArgument("bases must be a 2-dimensional uint8 array (batch, sequence_length)");
    request.bases.assign(b.data(), b.data() + b.size());
    request.sequence_length = b.shape(1);
    request.sequence_dtype = parse_dtype(sequence_dtype);
  }
  engine::check_and_mark_request(collection, request);  // planning it against `collection` trusts the mark
  return request;
}

py::object load(engine::BatchProcessor& processor, const engine::Collection& collection,
                const engine::BatchRequest& request, const py::object& out) {
  if (out.is_none()) {
    engine::LoadedBatch batch;
    {
      py::gil_scoped_release release;
      batch = processor.load(collection, request);
    }
    // The concrete types: Tensor (host) or CudaTensor.
    if (batch.sequences) return py::make_tuple(batch.values, batch.sequences);
    return py::cast(batch.values);
  }
  if (processor.device() != engine::kCpuDevice) {
    throw InvalidArgument("out= is for device='cpu'; on a GPU get_batch returns a new array");
  }
  BorrowedOutput target(out, request.output_shape(), request.dtype);
  {
    py::gil_scoped_release release;
    processor.load(collection, request, target.data());
  }
  return out;
}

// get_batch's common case in one call (plain_arguments.hpp): the request make_request would build
// from these arguments with every track, float32, no augmentation, loaded as load() loads it (on
// the host returned as the numpy array get_batch hands out, on a GPU as the CudaTensor); None,
// having done nothing, when an argument is not of its usual type (Python then converts it).
py::object load_plain(engine::BatchProcessor& processor, const engine::Collection& collection, py::handle chroms,
                      py::handle starts, py::handle ends, py::handle window_size, py::handle default_value,
                      const Array<uint32_t>& tracks, const Array<float>& scales) {
  std::vector<uint32_t> chrom_ids;
  std::vector<int64_t> window_starts, window_ends;
  uint32_t size = 1;
  float default_f32 = 0;
  if (!plain_chrom_ids(collection, chroms, chrom_ids) || !plain_coordinates(starts, window_starts) ||
      !plain_coordinates(ends, window_ends) || !plain_window_size(window_size, size) ||
      !plain_default_value(default_value, default_f32)) {
    return py::none();
  }
  engine::BatchRequest request = windows_request(std::move(chrom_ids), std::move(window_starts), window_ends, size,
                                                 default_f32, DType::Float32, tracks, scales);
  engine::check_and_mark_request(collection, request);
  std::shared_ptr<Tensor> values;
  {
    py::gil_scoped_release release;
    values = processor.load(collection, request).values;
  }
  // On the host the numpy array get_batch returns, made here: what numpy.asarray would make of
  // the Tensor through its buffer, for less than the buffer protocol's round trip costs.
  if (auto host = std::dynamic_pointer_cast<HostTensor>(values)) return host_array(host);
  return py::cast(values);  // a CudaTensor
}

}  // namespace

void bind_processors(py::module_& m) {
  py::class_<engine::BatchRequest, std::shared_ptr<engine::BatchRequest>>(
      m, "BatchRequest",
      "One batch of windows over a collection's tracks, checked against the collection when built: global "
      "chromosome ids, starts and ends (one per window, all of one length), window_size, default_value, dtype "
      "(\"float32\" or \"bfloat16\"), the file index of each output track and one scale factor per track.")
      .def(py::init(&make_request), py::arg("collection"), py::arg("chroms"), py::arg("starts"), py::arg("ends"),
           py::arg("window_size"), py::arg("default_value"), py::arg("dtype"), py::arg("tracks"), py::arg("scales"),
           py::kw_only(), py::arg("smoothing") = 1, py::arg("flip") = py::none(), py::arg("flip_tracks") = py::none(),
           py::arg("bases") = py::none(), py::arg("sequence_dtype") = "float32",
           "The augmentations (made in the worker, after the fill): smoothing, a moving-average width along the "
           "length axis; flip, one flag per window whose length axis is reversed and whose track column k takes "
           "column flip_tracks[k]; bases, (batch, sequence_length) uint8 to one-hot encode to sequence_dtype.")
      .def_property_readonly("batch_size", [](const engine::BatchRequest& r) { return r.starts.size(); })
      .def_property_readonly("length", [](const engine::BatchRequest& r) { return r.length; })
      .def_property_readonly("window_size", [](const engine::BatchRequest& r) { return r.window_size; })
      .def_property_readonly("default_value", [](const engine::BatchRequest& r) { return r.default_value; })
      .def_property_readonly("dtype", [](const engine::BatchRequest& r) { return std::string(dtype_name(r.dtype)); })
      .def_property_readonly("tracks", [](const engine::BatchRequest& r) { return r.tracks; })
      .def_property_readonly("output_shape", [](const engine::BatchRequest& r) { return r.output_shape(); });

  py::class_<engine::BatchProcessor, std::shared_ptr<engine::BatchProcessor>>(
      m, "BatchProcessor",
      "Loads batches on one device (make_processor): on the CPU a pool of host threads, on a GPU its own CUDA "
      "stream, pinned staging and device scratch.")
      .def("load", &load, py::arg("collection"), py::arg("request"), py::arg("out") = py::none(),
           "Loads one batch with the GIL released: a new Tensor (CudaTensor on a GPU, ready on the processor's "
           "stream), (values, sequences) when the request has bases, or `out` filled in place (CPU only).")
      .def("load_plain", &load_plain, py::arg("collection"), py::arg("chroms"), py::arg("starts"), py::arg("ends"),
           py::arg("window_size"), py::arg("default_value"), py::arg("tracks"), py::arg("scales"),
           "get_batch's common case in one call: chroms a list, tuple or numpy array of names, starts and ends "
           "int64 arrays or lists of int, window_size an int, default_value a float or int; every track, "
           "float32. On the host a numpy array viewing a new Tensor (its base), on a GPU the CudaTensor load() "
           "returns; or None (nothing done) when an argument is of another type: "
           "then build a BatchRequest.")
      .def_property_readonly("device", &engine::BatchProcessor::device, "-1 for the CPU, else the CUDA device")
      .def_property_readonly("n_threads", &engine::BatchProcessor::n_threads);

  // What the CPU processor has beyond the BatchProcessor interface; make_processor(-1) returns
  // one (pybind11 gives Python the most derived registered type).
  py::class_<cpu::CpuBatchProcessor, engine::BatchProcessor, std::shared_ptr<cpu::CpuBatchProcessor>>(
      m, "CpuProcessor", "The batch processor of the host: a pool of threads.")
      .def("time_stages", &cpu::CpuBatchProcessor::time_stages, py::arg("on"), py::call_guard<py::gil_scoped_release>(),
           "Turns stage timing on or off and resets the sums (for benchmarks).")
      .def(
          "stage_times",
          [](cpu::CpuBatchProcessor& p) {
            cpu::CpuStageTimes t;
            {
              // A batch holds the processor's lock while it runs, and may take the GIL (a remote
              // fetch): wait for it without the GIL.
              py::gil_scoped_release release;
              t = p.stage_times();
            }
            py::dict d;
            d["plan_ms"] = t.plan_ms;
            d["plan_search_ms"] = t.plan_search_ms;
            d["plan_search_work_ms"] = t.plan_search_work_ms;
            d["plan_search_longest_task_ms"] = t.plan_search_longest_task_ms;
            d["lookup_ms"] = t.lookup_ms;
            d["lookup_work_ms"] = t.lookup_work_ms;
            d["lookup_longest_task_ms"] = t.lookup_longest_task_ms;
            d["decode_ms"] = t.decode_ms;
            d["decode_work_ms"] = t.decode_work_ms;
            d["decode_longest_task_ms"] = t.decode_longest_task_ms;
            d["fill_ms"] = t.fill_ms;
            d["fill_work_ms"] = t.fill_work_ms;
            d["fill_longest_task_ms"] = t.fill_longest_task_ms;
            d["batches"] = t.batches;
            return d;
          },
          "Milliseconds summed over the batches run since time_stages(True): the plan (plan, wall; its block "
          "searches and file checks: plan_search wall, work and longest task), and per parallel phase (lookup: the "
          "cache lookups; "
          "decode: fetch, inflate, decode of missed blocks; fill) its wall time, its "
          "tasks' time summed over all threads (work) and its longest task (the phase's critical path).");

  m.def(
      "value_dtype", [](const std::string& name) { return std::string(dtype_name(parse_value_dtype(name))); },
      py::arg("name"), "The name of a track values' dtype (\"float32\" or \"bfloat16\"); ValueError for any other.");

  m.def(
      "make_processor",
      [](int device, size_t threads, size_t staging_bytes, size_t inflate_cap) {
        py::gil_scoped_release release;
        return std::shared_ptr<engine::BatchProcessor>(
            make_processor(ProcessorSettings{device, threads, staging_bytes, inflate_cap}));
      },
      py::arg("device"), py::arg("threads") = 0, py::arg("staging_bytes") = 0, py::arg("inflate_cap") = 0,
      "The batch processor of device ordinal `device` (-1: the CPU; N: CUDA device N, a CudaProcessor; "
      "DeviceError when it cannot be used). threads: host threads per batch (0: the CPUs this process may use); "
      "staging_bytes: pinned staging a GPU processor allocates up front; inflate_cap: its device scratch for "
      "inflated blocks in bytes (0: 256 MiB), a batch that needs more being inflated in chunks.");
}

}  // namespace bwl::bindings
