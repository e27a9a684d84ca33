"""What a batch of values is handed out as: the array type bigwig-loader 0.3 users slice,
reshape and compute on, without a copy.

- On the CPU a numpy array viewing the tensor's memory (the tensor stays alive as the array's
  base). numpy has no bfloat16, so a bfloat16 batch is a ``uint16`` array of its bit patterns,
  as 0.3 hands bfloat16 out on the GPU: ``torch.from_numpy(a).view(torch.bfloat16)`` (or
  ``torch.as_tensor(a).view(torch.bfloat16)``) reinterprets it without a copy.
- On a GPU a CuPy array when CuPy is installed (``uint16`` for bfloat16, as in 0.3), else the
  ``CudaTensor`` itself (DLPack).

Every form still speaks DLPack, and none is overwritten by a later batch.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from bigwig_loader import _core

_cupy: Any = None  # the cupy module once imported; False when it is not installed


def _import_cupy() -> Any:
    global _cupy
    if _cupy is None:
        try:
            _cupy = importlib.import_module("cupy")
        except ImportError:
            _cupy = False
    return _cupy


def user_array(tensor: Any) -> Any:
    """`tensor` (a bigwig_loader Tensor or CudaTensor) as the array users get; anything else
    (an ``out=`` array, a user's own object) is returned as it is."""
    if isinstance(tensor, _core.Tensor):
        return tensor.uint16_view() if tensor.dtype == "bfloat16" else np.asarray(tensor)
    if _is_cuda_tensor(tensor):
        cupy = _import_cupy()
        if not cupy:
            return tensor
        return cupy_bits_view(cupy, tensor) if tensor.dtype == "bfloat16" else cupy.from_dlpack(tensor)
    return tensor


def _is_cuda_tensor(tensor: Any) -> bool:
    return bool(_core.built_with_cuda) and isinstance(tensor, _core.CudaTensor)


def cupy_bits_view(cupy: Any, tensor: Any) -> Any:
    """A bfloat16 CudaTensor as a CuPy uint16 array over the same device memory (CuPy has no
    bfloat16, so cupy.from_dlpack refuses it). The array keeps the tensor alive, and CuPy's
    current stream is made to wait for the batch's kernels first, as cupy.from_dlpack would."""
    device = int(tensor.device.split(":")[1])
    # CuPy's current stream of the tensor's device (not of whatever device is current: the wait
    # and the array must be on the tensor's own), as cupy.from_dlpack does.
    with cupy.cuda.Device(device):
        stream = cupy.cuda.get_current_stream()
        # Asking for a capsule on CuPy's stream is the tensor's one way to make that stream wait;
        # the unconsumed capsule is dropped at once (its destructor releases only its reference).
        tensor.__dlpack__(stream=_dlpack_stream(stream))
        memory = cupy.cuda.UnownedMemory(tensor.data_ptr, tensor.nbytes, tensor, device)
        return cupy.ndarray(tuple(tensor.shape), dtype=cupy.uint16, memptr=cupy.cuda.MemoryPointer(memory, 0))


def _dlpack_stream(stream: Any) -> int:
    # The DLPack convention: 1 is the legacy default stream, 2 the per-thread default; 0 is
    # disallowed for CUDA. CuPy's null stream has ptr 0 and means the legacy default.
    return int(stream.ptr) or 1
