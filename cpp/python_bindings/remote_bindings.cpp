#include "python_bindings/remote_bindings.hpp"

#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "format/bbi_header.hpp"
#include "io/remote_object.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// The core's RangeFetcher, answered by a Python callable (bigwig_loader.remote.RangeFetcher):
// fetch(jobs) with jobs a list of (url, etag, starts, ends), one per object, returning per job a
// list of buffers, one per range, each exactly the range's bytes. The callable runs the whole
// round concurrently and releases the GIL while it waits on the network; its typed errors come
// back as the core's (FileNotFoundError -> FileNotFound, FileChangedError -> FileChanged,
// PermissionError -> PermissionDenied, RemoteReadError -> RemoteReadFailed, any other -> Error),
// message kept.
class PythonRangeFetcher final : public io::RangeFetcher {
 public:
  explicit PythonRangeFetcher(py::object fetch) : fetch_(std::move(fetch)) {}
  ~PythonRangeFetcher() override {
    // The last holder may be a worker thread without the GIL, and the interpreter may be gone or
    // going: a thread that takes the GIL then is ended mid-call (an abort). Leak the callable then.
    if (!Py_IsInitialized() || interpreter_finalizing()) {
      fetch_.release();
      return;
    }
    py::gil_scoped_acquire gil;
    fetch_ = py::object();
  }

  void fetch(std::vector<io::ObjectFetch>& round) override {
    py::gil_scoped_acquire gil;
    py::list jobs;
    for (const io::ObjectFetch& f : round) {
      py::list starts, ends;
      for (const io::ByteRange& r : f.ranges) {
        starts.append(r.offset);
        ends.append(r.end());
      }
      jobs.append(py::make_tuple(f.object->path(), f.object->etag(), starts, ends));
    }
    py::object answer;
    try {
      answer = fetch_(jobs);
    } catch (py::error_already_set& e) {
      rethrow_as_core_error(e);
    }
    const py::list per_object = answer.cast<py::list>();
    if (per_object.size() != round.size()) throw Error("the range fetcher answered for another number of objects");
    // The answers' buffers, held open while their bytes are copied with the GIL released (a
    // batch's bytes may be many megabytes; other threads' Python need not wait for the copy).
    std::vector<py::buffer_info> held;
    for (size_t i = 0; i < round.size(); ++i) {
      io::ObjectFetch& f = round[i];
      const py::list buffers = per_object[i].cast<py::list>();
      if (buffers.size() != f.ranges.size()) {
        throw Error(f.object->path() + ": the range fetcher answered another number of ranges");
      }
      for (size_t j = 0; j < f.ranges.size(); ++j) {
        held.push_back(buffers[j].cast<py::buffer>().request());
        const auto n = static_cast<size_t>(held.back().size * held.back().itemsize);
        if (n != f.ranges[j].length) {
          throw Error(f.object->path() + ": " + std::to_string(n) + " bytes came back for the range of " +
                      std::to_string(f.ranges[j].length) + " at byte offset " + std::to_string(f.ranges[j].offset));
        }
      }
    }
    py::gil_scoped_release release;
    size_t k = 0;
    for (io::ObjectFetch& f : round) {
      f.spans.clear();
      for (const io::ByteRange& r : f.ranges) {
        auto span = std::make_shared<io::FetchedSpan>();
        span->offset = r.offset;
        span->bytes.resize(r.length);
        if (r.length > 0) std::memcpy(span->bytes.data(), held[k].ptr, r.length);  // the one copy
        ++k;
        f.spans.push_back(std::move(span));
      }
    }
  }

 private:
  [[noreturn]] static void rethrow_as_core_error(py::error_already_set& e) {
    const std::string message = py::str(e.value());
    // Leaked on purpose: destroyed at exit, after the interpreter, they would touch freed memory.
    static const auto* core = new py::object(py::module_::import("bigwig_loader._core"));
    if (e.matches(core->attr("FileChangedError"))) throw FileChanged(message);
    if (e.matches(core->attr("RemoteReadError"))) throw RemoteReadFailed(message);
    if (e.matches(PyExc_FileNotFoundError)) throw FileNotFound(message);
    if (e.matches(PyExc_PermissionError)) throw PermissionDenied(message);
    if (e.matches(PyExc_KeyboardInterrupt)) throw Error("interrupted while fetching: " + message);
    throw Error(message);
  }

  py::object fetch_;
};

}  // namespace

void bind_remote(py::module_& m) {
  py::class_<io::ByteSource, std::shared_ptr<io::ByteSource>>(
      m, "ByteSource", "Where the core reads a file's bytes from: a local file or a remote object.")
      .def_property_readonly("path", &io::ByteSource::path)
      .def_property_readonly("size", &io::ByteSource::size)
      .def_property_readonly("is_remote", &io::ByteSource::is_remote);

  // One per collection: a batch's round is one call per fetcher, so the objects of a collection
  // share theirs (one RangeFetcher each would fetch file after file).
  py::class_<io::RangeFetcher, std::shared_ptr<io::RangeFetcher>>(
      m, "RangeFetcher", "The core's range fetcher, answered by a Python callable (bigwig_loader.remote).")
      .def(py::init([](py::object fetch) { return std::make_shared<PythonRangeFetcher>(std::move(fetch)); }),
           py::arg("fetch"));

  py::class_<io::RemoteObject, io::ByteSource, std::shared_ptr<io::RemoteObject>>(
      m, "RemoteObject",
      "A remote object read through a range fetcher (bigwig_loader.remote opens these; use a URL instead).")
      .def(py::init([](std::string url, uint64_t size, std::string etag, std::shared_ptr<io::RangeFetcher> fetcher) {
             return std::make_shared<io::RemoteObject>(std::move(url), size, std::move(etag), std::move(fetcher));
           }),
           py::arg("url"), py::arg("size"), py::arg("etag"), py::arg("fetcher"))
      .def_property_readonly("etag", &io::RemoteObject::etag)
      .def(
          "keep",
          [](io::RemoteObject& o, uint64_t offset, const py::buffer& bytes) {
            const py::buffer_info info = bytes.request();
            const auto* p = static_cast<const uint8_t*>(info.ptr);
            o.keep(offset, std::vector<uint8_t>(p, p + info.size * info.itemsize));
          },
          py::arg("offset"), py::arg("bytes"), "Keeps bytes fetched at `offset` until release_kept (an open's reads)")
      .def("release_kept", &io::RemoteObject::release_kept, py::call_guard<py::gil_scoped_release>());

  m.def(
      "open_ranges",
      [](const std::shared_ptr<io::ByteSource>& source) {
        std::vector<std::pair<uint64_t, uint64_t>> out;
        {
          py::gil_scoped_release release;
          const format::BbiHeader header = format::read_bbi_header(*source);
          for (const io::ByteRange& r : format::open_ranges(header, source->size()))
            out.emplace_back(r.offset, r.end());
        }
        return out;
      },
      py::arg("source"),
      "(start, end) of what opening the bigWig reads after its header: the chromosome tree and the index. "
      "Reads the header (from kept bytes where the source has them).");
  m.def(
      "merge_ranges",
      [](const std::vector<std::pair<uint64_t, uint64_t>>& ranges, uint64_t gap, uint64_t max_bytes) {
        std::vector<io::ByteRange> in;
        for (const auto& [start, end] : ranges) in.push_back(io::ByteRange{start, end - start});
        std::vector<std::pair<uint64_t, uint64_t>> out;
        for (const io::ByteRange& r : io::merge_ranges(std::move(in), gap, max_bytes))
          out.emplace_back(r.offset, r.end());
        return out;
      },
      py::arg("ranges"), py::arg("gap") = io::kMergeGapBytes, py::arg("max_bytes") = io::kMaxMergedRangeBytes,
      "The core's merge of (start, end) ranges fetched as one (for tests and benchmarks).");
  m.attr("remote_merge_gap_bytes") = io::kMergeGapBytes;
  m.attr("remote_front_bytes") = format::kOpenFrontBytes;
}

}  // namespace bwl::bindings
