// Binding of format::survey_file: the walk runs with the GIL released, so the command line can
// survey several files at once from Python threads; per-block facts come back as numpy columns
// (a file may have hundreds of thousands of blocks).
#include "python_bindings/survey_bindings.hpp"

#include <pybind11/numpy.h>

#include <string>

#include "format/block_survey.hpp"

namespace py = pybind11;

namespace bwl::bindings {
namespace {

template <typename T, typename Field>
py::array_t<T> column(const std::vector<format::DataBlockFacts>& blocks, Field field) {
  py::array_t<T> out(static_cast<py::ssize_t>(blocks.size()));
  T* dst = out.mutable_data();
  for (size_t i = 0; i < blocks.size(); ++i) dst[i] = static_cast<T>(blocks[i].*field);
  return out;
}

py::dict by_section_type(const std::array<uint64_t, format::kSectionTypes>& counts) {
  py::dict d;
  d["bedGraph"] = counts[0];
  d["variableStep"] = counts[1];
  d["fixedStep"] = counts[2];
  return d;
}

py::dict to_dict(const format::FileSurvey& s) {
  using format::DataBlockFacts;
  py::dict blocks;
  blocks["offset"] = column<uint64_t>(s.blocks, &DataBlockFacts::offset);
  blocks["stored_bytes"] = column<uint64_t>(s.blocks, &DataBlockFacts::stored_bytes);
  blocks["inflated_bytes"] = column<uint64_t>(s.blocks, &DataBlockFacts::inflated_bytes);
  blocks["sections"] = column<uint32_t>(s.blocks, &DataBlockFacts::sections);
  blocks["items"] = column<uint32_t>(s.blocks, &DataBlockFacts::items);
  blocks["intact"] = column<bool>(s.blocks, &DataBlockFacts::intact);

  py::list zooms;
  for (const format::ZoomLevelFacts& z : s.zooms) {
    py::dict zd;
    zd["reduction_level"] = z.reduction_level;
    zd["blocks"] = z.blocks;
    zd["stored_bytes"] = z.stored_bytes;
    zd["inflated_bytes"] = z.inflated_bytes;
    zd["records"] = z.records;
    zooms.append(zd);
  }
  py::list problems;
  for (const format::Problem& p : s.problems) {
    py::dict pd;
    pd["offset"] = p.has_offset ? py::object(py::int_(p.offset)) : py::object(py::none());
    pd["message"] = p.message;
    problems.append(pd);
  }

  py::dict d;
  d["path"] = s.path;
  d["opened"] = s.opened;
  d["blocks"] = blocks;
  d["sections_by_type"] = by_section_type(s.sections_by_type);
  d["items_by_type"] = by_section_type(s.items_by_type);
  d["zooms"] = zooms;
  d["problems"] = problems;
  return d;
}

}  // namespace

void bind_survey(py::module_& m) {
  m.def(
      "survey_bigwig",
      [](const std::string& path) {
        format::FileSurvey survey;
        {
          py::gil_scoped_release release;
          survey = format::survey_file(path);
        }
        return to_dict(survey);
      },
      py::arg("path"),
      "Reads, inflates and decodes every data and zoom block of one bigWig. Returns a dict: per-block "
      "numpy columns under 'blocks', section and item counts by type, zoom levels, and 'problems' (each "
      "{'offset': byte offset or None, 'message': ...}; empty when the file is intact). A missing file "
      "raises FileNotFoundError; every other fault is a problem, not an exception.");
}

}  // namespace bwl::bindings
