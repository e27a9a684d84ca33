"""bigwig-loader: BigWig signal tracks and DNA sequence for deep-learning training.

Reads BigWig files on the fly, on the CPU (and on a GPU when there is one), with no
pre-processing step.
"""

from bigwig_loader._core import BigWigError, Tensor, __version__, inflate_backend
from bigwig_loader.bigwig import BigWig
from bigwig_loader.collection import BigWigCollection
from bigwig_loader.device import cuda_available

__all__ = ["BigWig", "BigWigCollection", "BigWigError", "Tensor", "__version__", "cuda_available", "inflate_backend"]
