#pragma once
// The one representation of an element type, from the Python request down to the device's
// stores: track values are float32 or bfloat16 (round to nearest even; stages/window_fill.hpp);
// one-hot sequences may also be uint8. Its size, its name and the parsers of the name are here
// too (common/dtype.cpp), beside it.
#include <cstddef>
#include <cstdint>
#include <string>

namespace bwl {

enum class DType : uint8_t { Float32, BFloat16, UInt8 };

size_t dtype_bytes(DType d);
const char* dtype_name(DType d);
// Throws InvalidArgument for anything but "float32", "bfloat16" and "uint8".
DType parse_dtype(const std::string& name);
// The dtypes of track values: float32 and bfloat16; throws InvalidArgument for others.
DType parse_value_dtype(const std::string& name);

}  // namespace bwl
