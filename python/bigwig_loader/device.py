"""Which compute devices this installation can use, and the one reading of ``device=``.

``device=None`` (every ``device=`` argument's default) means :func:`default_device`: the device
set with :func:`set_default_device`, else the process's own CUDA device when a GPU can be used
(so that each ``torchrun`` rank reads onto its own GPU), else the CPU.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import Any

import numpy as np

from bigwig_loader import _core

#: The device asked for cannot be used: no GPU is visible, the build has no CUDA, or the CUDA
#: runtime reported an error. A RuntimeError.
DeviceError = _core.DeviceError

#: The ordinal the C++ layer takes for the CPU; CUDA devices are 0, 1, ...
CPU = -1

_CUDA = re.compile(r"cuda(?::(\d+))?")

# What set_default_device chose: None for automatic, else the ordinal it resolved.
_chosen: Any = None
_chosen_lock = threading.Lock()


def cuda_available() -> bool:
    """True when this build has the CUDA backend and a CUDA device is visible."""
    return bool(_core.built_with_cuda) and _core.cuda_device_count() > 0


def set_default_device(device: Any) -> None:
    """Sets what ``device=None`` means in this process from now on: ``"cpu"``, ``"cuda"``,
    ``"cuda:N"`` (or a ``torch.device``); ``None`` restores the automatic choice (see
    :func:`default_device`). The name is checked now (ValueError for an unknown name,
    DeviceError for a GPU that cannot be used). Objects already built keep their device."""
    global _chosen
    ordinal = None if device is None else resolve_device(device)
    with _chosen_lock:
        _chosen = ordinal


def default_device() -> str:
    """The device ``device=None`` stands for now: the one :func:`set_default_device` set; else,
    when a GPU can be used, the process's current CUDA device: ``torch.cuda.current_device()``
    when torch is imported and has initialised CUDA, else the ``LOCAL_RANK`` that ``torchrun``
    sets (modulo the visible devices), else ``"cuda:0"``; with no usable GPU, ``"cpu"``."""
    return device_name(resolve_device(None))


def automatic_ordinal(visible: int, torch_device: int | None, local_rank: str | None) -> int:
    """The automatic default as a pure function of what the process shows: ``visible`` CUDA
    devices, torch's current device (None when torch has not initialised CUDA) and the
    ``LOCAL_RANK`` environment variable (None when unset). Raises ValueError for a malformed
    LOCAL_RANK."""
    if visible <= 0:
        return CPU
    if torch_device is not None:
        return torch_device
    if local_rank is not None and local_rank.strip() != "":
        try:
            rank = int(local_rank)
        except ValueError:
            raise ValueError(f"LOCAL_RANK must be a non-negative integer, got {local_rank!r}") from None
        if rank < 0:
            raise ValueError(f"LOCAL_RANK must be a non-negative integer, got {local_rank!r}")
        # A rank that sees fewer devices than ranks (CUDA_VISIBLE_DEVICES set per rank) takes
        # its rank modulo what it sees: its only device when it sees one.
        return rank % visible
    return 0


def _torch_current_device() -> int | None:
    """torch's current CUDA device, without initialising CUDA in torch (which would create a
    context on device 0 in every process): None unless torch is imported and initialised."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_initialized():
            return None
        return int(torch.cuda.current_device())
    except Exception:  # a torch without CUDA, or a broken one: no opinion
        return None


def parse_device(device: Any) -> int:
    """The ordinal ``device`` names, without asking whether it can be used: -1 for ``"cpu"``,
    N for ``"cuda:N"`` (``"cuda"`` is device 0); anything whose ``str`` is one of these (a
    ``torch.device``). ValueError for any other name."""
    name = str(device)
    if name == "cpu":
        return CPU
    match = _CUDA.fullmatch(name)
    if match is None:
        raise ValueError(f'device must be "cpu", "cuda" or "cuda:N", got {device!r}')
    return int(match.group(1) or 0)


def resolve_device(device: Any = None) -> int:
    """The ordinal of ``device``: -1 for ``"cpu"``, N for ``"cuda:N"`` (``"cuda"`` is device 0).
    ``None`` stands for :func:`default_device`. A ``torch.device`` works too (anything whose
    ``str`` is one of these), and so does an ordinal this function returned (an int: -1 for the
    CPU, N for CUDA device N, as torch takes an int), so that a layer that resolved the device
    hands the ordinal down and no layer parses a name twice.

    Raises ValueError for an unknown device name and DeviceError when CUDA is asked for and
    cannot be used (saying why).
    """
    if device is None:
        with _chosen_lock:
            chosen = _chosen
        if chosen is not None:
            return chosen
        if not cuda_available():
            return CPU
        ordinal = automatic_ordinal(_core.cuda_device_count(), _torch_current_device(), os.environ.get("LOCAL_RANK"))
        return _usable(ordinal, device_name(ordinal))
    if isinstance(device, (int, np.integer)) and not isinstance(device, (bool, np.bool_)):
        if device < CPU:
            raise ValueError(f'device must be "cpu", "cuda", "cuda:N" or an ordinal >= -1, got {device!r}')
        return _usable(int(device), device_name(int(device)))
    return _usable(parse_device(device), str(device))


def _usable(ordinal: int, name: str) -> int:
    """``ordinal`` when the device can be used; DeviceError saying why not, naming it ``name``."""
    if ordinal == CPU:
        return CPU
    count = _core.cuda_device_count()
    if count == 0:
        raise DeviceError(f"device={name!r} needs a CUDA GPU, but none can be used: {_core.cuda_unavailable_reason()}")
    if ordinal >= count:
        raise DeviceError(f"device={name!r}: there is no CUDA device {ordinal} ({count} visible)")
    return ordinal


def device_name(ordinal: int) -> str:
    """``"cpu"`` or ``"cuda:N"``, the inverse of :func:`resolve_device`."""
    return "cpu" if ordinal == CPU else f"cuda:{ordinal}"
