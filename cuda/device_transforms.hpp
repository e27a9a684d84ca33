#pragma once
// The datasets' in-place augmentations on device tensors (flip_rows, moving_average_rows; see
// tensor/transforms.hpp for their meaning) and the upload of host tensors (one-hot sequences).
// Each queues its work on the calling thread's default stream after the tensor is ready and
// marks it ready again after: consumers see the transformed contents.
#include <cstdint>
#include <memory>
#include <vector>

#include "device_tensor.hpp"

namespace bwl::cuda {

void flip_rows(DeviceTensor& tensor, const std::vector<uint8_t>& flip, const std::vector<int64_t>& permutation);
void moving_average_rows(DeviceTensor& tensor, int64_t width);
// A device copy of `host` on `device` (synchronous with respect to `host`'s memory).
std::shared_ptr<DeviceTensor> to_device(const HostTensor& host, int device);

}  // namespace bwl::cuda
