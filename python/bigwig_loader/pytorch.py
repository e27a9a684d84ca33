"""`PytorchBigWigDataset`: BigWigDataset as a torch IterableDataset yielding torch tensors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from bigwig_loader.batch import Batch
from bigwig_loader.dataset import BigWigDataset


def _to_torch(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    if hasattr(x, "__dlpack__"):
        return torch.from_dlpack(x)
    return x


class PytorchBigWigDataset(torch.utils.data.IterableDataset):
    """A ``torch.utils.data.IterableDataset`` over :class:`BigWigDataset` (same parameters),
    yielding torch tensors without a copy (bfloat16 when ``dtype="bfloat16"``), on the GPU when
    ``device`` is one (``torch.from_dlpack`` makes torch's current stream wait for the batch).
    Use it with ``DataLoader(dataset, batch_size=None, num_workers=0)``: batching and threads
    are its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.dataset = BigWigDataset(*args, **kwargs)
        self.dataset._device_arrays = "dlpack"  # torch takes the device tensors; no CuPy needed

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[Any]:
        for item in self.dataset:
            if isinstance(item, Batch):
                item.sequences = _to_torch(item.sequences)
                item.values = _to_torch(item.values)
                yield item
            else:
                yield tuple(_to_torch(x) if i < 2 else x for i, x in enumerate(item))
