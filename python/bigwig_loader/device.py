"""Which compute devices this installation can use, and the one reading of ``device=``."""

from __future__ import annotations

import re
from typing import Any

from bigwig_loader import _core

#: The device asked for cannot be used: no GPU is visible, the build has no CUDA, or the CUDA
#: runtime reported an error. A RuntimeError.
DeviceError = _core.DeviceError

#: The ordinal the C++ layer takes for the CPU; CUDA devices are 0, 1, ...
CPU = -1

_CUDA = re.compile(r"cuda(?::(\d+))?")


def cuda_available() -> bool:
    """True when this build has the CUDA backend and a CUDA device is visible."""
    return bool(_core.built_with_cuda) and _core.cuda_device_count() > 0


def resolve_device(device: Any = None) -> int:
    """The ordinal of ``device``: -1 for ``"cpu"``, N for ``"cuda:N"`` (``"cuda"`` is device 0).
    ``None`` picks ``"cuda"`` when a GPU is available, else ``"cpu"``. A ``torch.device`` works
    too (anything whose ``str`` is one of these).

    Raises ValueError for an unknown device name and DeviceError when CUDA is asked for and
    cannot be used (saying why).
    """
    if device is None:
        return 0 if cuda_available() else CPU
    name = str(device)
    if name == "cpu":
        return CPU
    match = _CUDA.fullmatch(name)
    if match is None:
        raise ValueError(f'device must be "cpu", "cuda" or "cuda:N", got {device!r}')
    ordinal = int(match.group(1) or 0)
    count = _core.cuda_device_count()
    if count == 0:
        raise DeviceError(f"device={name!r} needs a CUDA GPU, but none can be used: {_core.cuda_unavailable_reason()}")
    if ordinal >= count:
        raise DeviceError(f"device={name!r}: there is no CUDA device {ordinal} ({count} visible)")
    return ordinal


def device_name(ordinal: int) -> str:
    """``"cpu"`` or ``"cuda:N"``, the inverse of :func:`resolve_device`."""
    return "cpu" if ordinal == CPU else f"cuda:{ordinal}"
