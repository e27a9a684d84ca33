#include "common/dtype.hpp"

#include "common/errors.hpp"

namespace bwl {

size_t dtype_bytes(DType d) {
  switch (d) {
    case DType::Float32: return 4;
    case DType::BFloat16: return 2;
    case DType::UInt8: return 1;
  }
  return 0;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::BFloat16: return "bfloat16";
    case DType::UInt8: return "uint8";
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  if (name == "float32") return DType::Float32;
  if (name == "bfloat16") return DType::BFloat16;
  if (name == "uint8") return DType::UInt8;
  throw InvalidArgument("dtype must be \"float32\", \"bfloat16\" or \"uint8\", got \"" + name + "\"");
}

DType parse_value_dtype(const std::string& name) {
  if (name == "float32") return DType::Float32;
  if (name == "bfloat16") return DType::BFloat16;
  throw InvalidArgument("dtype must be \"float32\" or \"bfloat16\", got \"" + name + "\"");
}

}  // namespace bwl
