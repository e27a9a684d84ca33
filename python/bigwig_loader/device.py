"""Which compute devices this installation can use."""

from bigwig_loader import _core


def cuda_available() -> bool:
    """True when this build has the CUDA backend and a CUDA device is visible."""
    return bool(_core.built_with_cuda) and _core.cuda_device_count() > 0
