"""bigwig-loader: BigWig signal tracks and DNA sequence for deep-learning training.

Reads BigWig files on the fly, on the CPU (and on a GPU when there is one), with no
pre-processing step.
"""

from bigwig_loader import config as config  # an attribute after `import bigwig_loader`, as in 0.3 (compat03)
from bigwig_loader._core import (
    BigWigError,
    FileChangedError,
    RemoteReadError,
    Tensor,
    __version__,
    deflate_backend,
    inflate_backend,
)
from bigwig_loader.batch import Batch
from bigwig_loader.bigwig import BigWig
from bigwig_loader.collection import BigWigCollection
from bigwig_loader.dataset import BigWigDataset
from bigwig_loader.device import DeviceError, cuda_available, default_device, set_default_device
from bigwig_loader.genome import ReferenceGenome, one_hot
from bigwig_loader.input_generator import QueryBatchGenerator
from bigwig_loader.sampler import GenomicSequenceSampler, RandomPositionSampler, TrackSampler
from bigwig_loader.streamed_dataloader import StreamedDataloader
from bigwig_loader.writer import BigWigWriter, write_bigwig

__all__ = [
    "Batch",
    "BigWig",
    "BigWigCollection",
    "BigWigDataset",
    "PytorchBigWigDataset",
    "BigWigError",
    "BigWigWriter",
    "DeviceError",
    "FileChangedError",
    "GenomicSequenceSampler",
    "QueryBatchGenerator",
    "RandomPositionSampler",
    "RemoteReadError",
    "ReferenceGenome",
    "StreamedDataloader",
    "Tensor",
    "TrackSampler",
    "__version__",
    "cuda_available",
    "default_device",
    "deflate_backend",
    "inflate_backend",
    "one_hot",
    "set_default_device",
    "write_bigwig",
]


def __getattr__(name: str):
    # PytorchBigWigDataset imports torch: only when asked for.
    if name == "PytorchBigWigDataset":
        from bigwig_loader.pytorch import PytorchBigWigDataset

        return PytorchBigWigDataset
    if name == "CudaTensor":
        from bigwig_loader import _core

        if not _core.built_with_cuda:
            raise AttributeError("bigwig_loader.CudaTensor: this build of bigwig-loader has no CUDA backend")
        return _core.CudaTensor
    raise AttributeError(f"module 'bigwig_loader' has no attribute {name!r}")
