#pragma once
// The one representation of an element type, from the Python request down to the device's
// stores: track values are float32 or bfloat16 (round to nearest even; stages/window_fill.hpp);
// one-hot sequences may also be uint8. Parsed from its name in tensor/tensor.hpp.
#include <cstdint>

namespace bwl {

enum class DType : uint8_t { Float32, BFloat16, UInt8 };

}  // namespace bwl
