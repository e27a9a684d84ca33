"""`QueryBatchGenerator`: sampled positions (and tracks) into query batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from bigwig_loader.batch import Batch


class QueryBatchGenerator:
    """Yields a :class:`Batch` of ``batch_size`` windows at a time: each item of
    `genomic_location_sampler` is ``(chromosome, centre)`` or ``(chromosome, centre, sequence)``;
    the window is ``[centre - center_bin_to_predict // 2, + center_bin_to_predict)``; with a
    `track_sampler`, each batch takes the next track subset. Stops when the sampler runs out
    (a last, shorter batch is dropped)."""

    def __init__(
        self,
        genomic_location_sampler: Iterable[tuple],
        center_bin_to_predict: int,
        batch_size: int,
        track_sampler: Iterable[list[int]] | None = None,
    ) -> None:
        if center_bin_to_predict < 1 or batch_size < 1:
            raise ValueError("center_bin_to_predict and batch_size must be at least 1")
        self.genomic_location_sampler = iter(genomic_location_sampler)
        self.center_bin_to_predict = center_bin_to_predict
        self.batch_size = batch_size
        self.track_sampler = None if track_sampler is None else iter(track_sampler)

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        items = [item for _, item in zip(range(self.batch_size), self.genomic_location_sampler)]
        if len(items) < self.batch_size:
            raise StopIteration
        chromosomes = [item[0] for item in items]
        starts = np.array([item[1] for item in items], dtype=np.int64) - self.center_bin_to_predict // 2
        sequences = [item[2] for item in items] if len(items[0]) > 2 else None
        return Batch(
            chromosomes=chromosomes,
            starts=starts,
            ends=starts + self.center_bin_to_predict,
            sequences=sequences,
            track_indices=None if self.track_sampler is None else next(self.track_sampler),
        )
