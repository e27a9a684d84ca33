#pragma once
// The DLPack ABI, declared here from its published specification (dmlc/dlpack, the unversioned
// "DLManagedTensor" of DLPack 0.6 to 0.8 that numpy, torch and CuPy all accept through
// `__dlpack__`), so that the package builds with nothing but a compiler and what pip fetches: no
// system header. Only what this library exchanges is declared. The layout is the ABI: field
// order, widths and enum values must stay exactly as the specification gives them (checked below
// and, at run time, by every test that hands a tensor to numpy or torch).
#include <cstddef>
#include <cstdint>

extern "C" {

// Where a tensor's memory lives (DLDeviceType).
typedef enum {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,  // pinned host memory
} DLDeviceType;

typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;

// The element type's class (DLDataTypeCode).
typedef enum {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLBfloat = 4,
} DLDataTypeCode;

typedef struct {
  uint8_t code;  // a DLDataTypeCode
  uint8_t bits;
  uint16_t lanes;
} DLDataType;

typedef struct {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null for a compact row-major tensor
  uint64_t byte_offset;
} DLTensor;

typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensor* self);
} DLManagedTensor;

}  // extern "C"

// The specification's layout on the 64-bit platforms this library builds for.
static_assert(sizeof(DLDevice) == 8 && sizeof(DLDataType) == 4, "DLPack ABI: DLDevice / DLDataType");
static_assert(offsetof(DLTensor, device) == 8 && offsetof(DLTensor, ndim) == 16 && offsetof(DLTensor, dtype) == 20 &&
                  offsetof(DLTensor, shape) == 24 && offsetof(DLTensor, strides) == 32 &&
                  offsetof(DLTensor, byte_offset) == 40 && sizeof(DLTensor) == 48,
              "DLPack ABI: DLTensor");
static_assert(offsetof(DLManagedTensor, manager_ctx) == 48 && offsetof(DLManagedTensor, deleter) == 56,
              "DLPack ABI: DLManagedTensor");
