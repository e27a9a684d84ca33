#pragma once
// get_batch's arguments of the usual types, read in C++ (BatchProcessor.load_plain): a batch of one
// window warm from the cache takes ~2 us to load, and its Python conversions (names to ids,
// coordinates to int64, each checked and named) took three times that.
//
// Each reader accepts only its argument's usual types, exactly (no subclasses, no other dtypes),
// and then gives the value Python's own conversion (BigWigCollection.batch_request,
// _arguments.py) gives; for anything else it returns false and the caller takes the Python path,
// which converts the rest and raises the errors that name the argument. So a request built from
// what the readers accept is the request Python would build.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "engine/collection.hpp"

namespace bwl::bindings {

// The global chromosome ids of `names` into `ids` (resized): a list or tuple of ASCII str, or a
// 1-d C-contiguous numpy str array (dtype U). False when an item is anything else or a name no
// file has.
bool plain_chrom_ids(const engine::Collection& collection, pybind11::handle names, std::vector<uint32_t>& ids);

// chrom_ids of a 1-d C-contiguous numpy str array (dtype U: UCS4, each item NUL-padded to the same
// width) into out[0, size), without a Python str an item: false when an item is not ASCII, holds a
// NUL inside, or is a name no file has. The GIL is released for a large array.
bool chrom_ids_of_str_array(const engine::Collection& collection, const pybind11::array& names, uint32_t* out);

// Coordinates into `out` (resized): a 1-d C-contiguous numpy int64 array, or a list or tuple of int,
// each within [-kMaxCoordinate, kMaxCoordinate] (what _arguments.coordinates lets through).
bool plain_coordinates(pybind11::handle values, std::vector<int64_t>& out);

// window_size: an int in [1, 2**32 - 1].
bool plain_window_size(pybind11::handle value, uint32_t& out);

// default_value: a float or an int (as float(value), then rounded to float32 as pybind11 does).
bool plain_default_value(pybind11::handle value, float& out);

}  // namespace bwl::bindings
