"""`PytorchBigWigDataset`: BigWigDataset as a torch IterableDataset yielding torch tensors."""

from __future__ import annotations

import inspect
import sys
import warnings
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


class PytorchBatch:
    """bigwig-loader 0.3's ``PytorchBatch``: a :class:`Batch` whose arrays are torch tensors
    (what ``PytorchBigWigDataset(return_batch_objects=True)`` yields). ``starts``, ``ends``,
    ``track_indices`` (when set), ``sequences`` (one-hot) and ``values`` are tensors, without
    a copy where the memory allows; ``chromosomes``, ``track_names`` and ``other`` are as in
    the Batch; each item of ``other_batched`` that is an array becomes a tensor, and so does
    ``flipped`` (which windows were reverse-complemented) when set."""

    def __init__(
        self,
        chromosomes: Any,
        starts: Any,
        ends: Any,
        values: Any,
        track_indices: Any,
        sequences: Any,
        other_batched: Any,
        other: Any,
        track_names: Any = None,
        flipped: Any = None,
    ) -> None:
        self.chromosomes = chromosomes
        self.starts = starts
        self.ends = ends
        self.values = values
        self.track_indices = track_indices
        self.sequences = sequences
        self.other_batched = other_batched
        self.other = other
        self.track_names = track_names
        self.flipped = flipped

    @classmethod
    def from_batch(cls, batch: Batch, dtype: str = "float32") -> PytorchBatch:
        """The batch's arrays as torch tensors. ``dtype`` is that of the values: a ``uint16``
        array of bfloat16 bit patterns (how numpy and CuPy hold bfloat16) is viewed as
        torch.bfloat16, as 0.3 does."""
        track_indices = batch.track_indices
        if track_indices is not None and not isinstance(track_indices, torch.Tensor):
            track_indices = torch.as_tensor(np.asarray(track_indices, dtype=np.int64))
        return cls(
            chromosomes=batch.chromosomes,
            starts=_as_torch(batch.starts),
            ends=_as_torch(batch.ends),
            values=_values_as_torch(batch.values, dtype),
            track_indices=track_indices,
            sequences=_as_torch(batch.sequences),
            other_batched=None if batch.other_batched is None else [_as_torch(x) for x in batch.other_batched],
            other=batch.other,
            track_names=batch.track_names,
            flipped=None if batch.flipped is None else _as_torch(batch.flipped),
        )

    def __len__(self) -> int:
        return len(self.starts)


def _as_torch(x: Any) -> Any:
    """Arrays (numpy, CuPy, DLPack) as torch tensors; lists of strings and other objects as they are."""
    if isinstance(x, torch.Tensor) or x is None:
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x)) if x.dtype != object else x
    if hasattr(x, "__dlpack__"):
        return torch.from_dlpack(x)
    return x


def _values_as_torch(x: Any, dtype: str) -> Any:
    tensor = _as_torch(x)
    if dtype == "bfloat16" and isinstance(tensor, torch.Tensor) and tensor.dtype == torch.uint16:
        return tensor.view(torch.bfloat16)
    return tensor


_UNPINNED_EPOCH_IN_WORKERS = (
    "PytorchBigWigDataset in DataLoader worker processes: the workers are copies of the dataset, "
    "whose epoch does not advance in the main process; call dataset.set_epoch(epoch) before each "
    "epoch (or use persistent_workers=True), else every epoch repeats the same windows"
)


def _refuse_dataloader_batching(dataset: PytorchBigWigDataset, caller: Any) -> None:
    """ValueError when a DataLoader with a batch_size (auto-collation) iterates the dataset: it
    would stack whole batches into one tensor without a word. torch's fetcher calls iter() on
    the dataset from its __init__, with its auto_collation set; the fetcher is torch's private
    class, so when torch changes it this check finds nothing and refuses nothing."""
    try:
        from torch.utils.data._utils.fetch import _IterableDatasetFetcher
    except ImportError:
        return
    fetcher = caller.f_locals.get("self")
    if isinstance(fetcher, _IterableDatasetFetcher) and fetcher.dataset is dataset and fetcher.auto_collation:
        raise ValueError(
            "PytorchBigWigDataset yields whole batches (its own batch_size): make the DataLoader with "
            "batch_size=None; with a batch_size it would stack that many batches into one tensor"
        )


class _TensorDataset(BigWigDataset):
    """The BigWigDataset a PytorchBigWigDataset reads: its batches' tensors handed out as the
    loader made them, which torch takes with ``from_dlpack`` (no CuPy needed on a GPU)."""

    yields_tensors = True


class PytorchBigWigDataset(torch.utils.data.IterableDataset):
    """A ``torch.utils.data.IterableDataset`` over :class:`BigWigDataset`: it takes exactly
    BigWigDataset's parameters, every one documented in ``BigWigDataset``'s docstring
    (``help(bigwig_loader.BigWigDataset)``) and in docs/REFERENCE.md, and yields torch tensors
    without a copy (bfloat16 when ``dtype="bfloat16"``, and for the
    sequences when ``sequence_dtype="bfloat16"``), on the GPU when ``device`` is one
    (``torch.from_dlpack`` makes torch's current stream wait for the batch). With
    ``return_batch_objects`` it yields :class:`PytorchBatch` objects, as 0.3 does.

    Use it with ``DataLoader(dataset, batch_size=None)``: it yields whole batches, so a
    DataLoader ``batch_size`` (1 by default!) would stack that many into one tensor with an extra
    axis; that is refused with a ValueError. Loading runs on the dataset's own threads, so
    ``num_workers=0`` is enough. With ``num_workers=k`` the workers split the epoch: worker w of
    rank r takes every (world_size * k)-th window of the epoch's stream from r * k + w on, and
    ``len(dataset)`` batches are split among them (the first ``len % k`` take one more), so the
    DataLoader yields each window of the epoch once and ``len(dataset)`` batches in all. Workers
    are copies of the dataset made at each DataLoader iteration (unless
    ``persistent_workers=True``): call ``set_epoch(epoch)`` before each epoch, or every epoch
    repeats the first one's windows (a warning says so)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.dataset = _TensorDataset(*args, **kwargs)

    # help() and IDEs show BigWigDataset's parameters, which __init__ passes on as they are.
    __init__.__signature__ = inspect.signature(BigWigDataset.__init__)  # type: ignore[attr-defined]

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)

    @property
    def bigwig_collection(self) -> Any:
        return self.dataset.collection

    def reset_gpu(self) -> None:
        """See BigWigDataset.reset_gpu."""
        self.dataset.reset_gpu()

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[Any]:
        _refuse_dataloader_batching(self, sys._getframe(1))
        worker = torch.utils.data.get_worker_info()
        if worker is None:
            return self._tensors(iter(self.dataset))
        if not self.dataset.epoch_pinned and self.dataset.epoch == 0:
            warnings.warn(_UNPINNED_EPOCH_IN_WORKERS, stacklevel=2)
        return self._tensors(self.dataset.iter_worker_share(worker.id, worker.num_workers))

    def _tensors(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, Batch):
                item.sequences = _to_torch(item.sequences)
                item.values = _to_torch(item.values)
                yield PytorchBatch.from_batch(item, self.dataset.dtype)
            else:
                yield tuple(_to_torch(x) if i < 2 else x for i, x in enumerate(item))
