#include "tensor/dlpack_export.hpp"

#include <string>
#include <vector>

#include "common/errors.hpp"

namespace bwl {
namespace {

// Owns what the DLManagedTensor points at: the tensor and its shape/strides arrays.
struct ExportContext {
  std::shared_ptr<Tensor> tensor;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  DLManagedTensor managed{};
};

DLDataType dl_dtype(DType d) {
  DLDataType t;
  t.code = d == DType::Float32 ? kDLFloat : d == DType::BFloat16 ? kDLBfloat : kDLUInt;
  t.bits = static_cast<uint8_t>(dtype_bytes(d) * 8);
  t.lanes = 1;
  return t;
}

std::string shape_text(const int64_t* shape, int ndim) {
  std::string s = "(";
  for (int i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (ndim == 1 ? ",)" : ")");
}

}  // namespace

DLManagedTensor* export_dlpack(std::shared_ptr<HostTensor> tensor) {
  void* data = tensor->data();
  return export_dlpack(std::shared_ptr<Tensor>(std::move(tensor)), data, DLDevice{kDLCPU, 0});
}

DLManagedTensor* export_dlpack(std::shared_ptr<Tensor> tensor, void* data, DLDevice device) {
  auto* ctx = new ExportContext;
  ctx->shape = tensor->shape();
  ctx->strides.resize(ctx->shape.size());
  int64_t stride = 1;
  for (size_t i = ctx->shape.size(); i-- > 0;) {
    ctx->strides[i] = stride;
    stride *= ctx->shape[i];
  }
  DLTensor& t = ctx->managed.dl_tensor;
  t.data = data;
  t.device = device;
  t.ndim = static_cast<int>(ctx->shape.size());
  t.dtype = dl_dtype(tensor->dtype());
  t.shape = ctx->shape.data();
  t.strides = ctx->strides.data();
  t.byte_offset = 0;
  ctx->tensor = std::move(tensor);
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = [](DLManagedTensor* self) { delete static_cast<ExportContext*>(self->manager_ctx); };
  return &ctx->managed;
}

void* checked_output_view(const DLTensor& t, const std::vector<int64_t>& shape, DType dtype, const char* what) {
  const std::string name(what);
  if (t.device.device_type != kDLCPU && t.device.device_type != kDLCUDAHost) {
    throw InvalidArgument(name + " must be in host memory for the CPU backend");
  }
  const DLDataType want = dl_dtype(dtype);
  if (t.dtype.code != want.code || t.dtype.bits != want.bits || t.dtype.lanes != 1) {
    throw InvalidArgument(name + " has the wrong dtype: expected " + dtype_name(dtype));
  }
  const std::vector<int64_t> got(t.shape, t.shape + t.ndim);
  if (got != shape) {
    throw InvalidArgument(name + " has shape " + shape_text(t.shape, t.ndim) + ", expected " +
                          shape_text(shape.data(), static_cast<int>(shape.size())));
  }
  if (t.strides != nullptr) {
    int64_t expected = 1;
    for (int i = t.ndim; i-- > 0;) {
      if (t.shape[i] != 1 && t.strides[i] != expected) throw InvalidArgument(name + " must be C-contiguous");
      expected *= t.shape[i];
    }
  }
  return static_cast<char*>(t.data) + t.byte_offset;
}

}  // namespace bwl
