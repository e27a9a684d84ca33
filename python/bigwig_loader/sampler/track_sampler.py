"""`TrackSampler`: random subsets of tracks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class TrackSampler:
    """Yields, forever, sorted lists of ``sample_size`` distinct track indices drawn from
    ``range(total_number_of_tracks)``, with its own seeded generator."""

    def __init__(self, total_number_of_tracks: int, sample_size: int, seed=None) -> None:
        if not 1 <= sample_size <= total_number_of_tracks:
            raise ValueError(
                f"sample_size must lie in [1, {total_number_of_tracks}] (the number of tracks), got {sample_size}"
            )
        self.total_number_of_tracks = total_number_of_tracks
        self.sample_size = sample_size
        self._rng = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[list[int]]:
        return self

    def __next__(self) -> list[int]:
        picks = self._rng.choice(self.total_number_of_tracks, self.sample_size, replace=False)
        return sorted(int(i) for i in picks)
