"""`Batch`: one batch of windows and what is loaded for them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np

IntervalType = tuple[Sequence[str], Sequence[int], Sequence[int]]


class Batch:
    """A container for one batch: the query (chromosomes, starts, ends, optional track indices)
    and what the loader fills in (sequences, values, track names).

    Args:
        chromosomes, starts, ends: one entry per window.
        track_indices: which tracks (positions in the collection); None means all.
        sequences: one per window (strings, or a one-hot array).
        values: the (batch, length // window_size, n_tracks) array.
        track_names: names of the selected tracks.
        other_batched: further per-window sequences, sliced with the batch.
        other: anything else; not sliced.
        flipped: which windows were reverse-complemented (a bool per window; set by the datasets
            when ``reverse_complement=True``), sliced with the batch. The loader's workers flip
            those windows' values and sequences; this field tells a consumer which ones.

    Slicing (``batch[a:b]``) slices every per-window field and keeps the others.
    """

    def __init__(
        self,
        chromosomes: Sequence[str],
        starts: Sequence[int] | np.ndarray,
        ends: Sequence[int] | np.ndarray,
        track_indices: Sequence[int] | np.ndarray | None = None,
        sequences: Any = None,
        values: Any = None,
        track_names: Sequence[str | Path] | None = None,
        other_batched: Sequence[Any] | None = None,
        other: Any = None,
        flipped: np.ndarray | None = None,
    ) -> None:
        self.chromosomes = chromosomes
        self.starts = starts
        self.ends = ends
        self.track_indices = track_indices
        self.sequences = sequences
        self.values = values
        self.track_names = track_names
        self.other_batched = other_batched
        self.other = other
        self.flipped = flipped

    @classmethod
    def from_args(cls, args: Union[Batch, IntervalType, dict[str, Any]]) -> Batch:
        """A Batch from a Batch, a dict of its arguments, or a (chromosomes, starts, ends) triple."""
        if isinstance(args, cls):
            return args
        if isinstance(args, dict):
            return cls(**args)
        if isinstance(args, (tuple, list)):
            if len(args) != 3:
                raise ValueError(
                    f"expected (chromosomes, starts, ends), got {len(args)} elements; use Batch(...) for more"
                )
            return cls(*args)
        raise TypeError(f"cannot make a Batch from {type(args).__name__}")

    def __getitem__(self, item: slice) -> Batch:
        if not isinstance(item, slice):
            raise TypeError("a Batch is sliced with a slice, e.g. batch[0:32]")
        return Batch(
            chromosomes=self.chromosomes[item],
            starts=self.starts[item],
            ends=self.ends[item],
            track_indices=self.track_indices,
            sequences=None if self.sequences is None else self.sequences[item],
            values=None if self.values is None else self.values[item],
            track_names=self.track_names,
            other_batched=None if self.other_batched is None else [x[item] for x in self.other_batched],
            other=self.other,
            flipped=None if self.flipped is None else self.flipped[item],
        )

    def __len__(self) -> int:
        return len(self.starts)

    def __repr__(self) -> str:
        shape = getattr(self.values, "shape", None)
        tracks = "all" if self.track_indices is None else len(self.track_indices)
        return f"Batch({len(self)} windows, tracks={tracks}, sequences={self.sequences is not None}, values={shape})"
