"""`RandomPositionSampler`: window centres drawn uniformly over every base of the regions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class RandomPositionSampler:
    """Yields ``(chromosome, centre)`` forever, each centre uniform over all bases of all
    regions of interest (a region's weight is its length; the last region and a lone region
    are sampled like any other).

    Args:
        regions_of_interest: DataFrame with columns ``chrom, start, end`` (never modified).
        buffer_size: centres drawn at a time.
        repeat_same: repeat the first buffer of centres forever (a fixed validation set).
        seed: seed of this sampler's own ``numpy.random.Generator`` (None: fresh entropy).
    """

    def __init__(self, regions_of_interest, buffer_size: int = 100_000, repeat_same: bool = False, seed=None) -> None:
        missing = {"chrom", "start", "end"} - set(regions_of_interest.columns)
        if missing:
            raise ValueError(f"regions_of_interest needs the columns chrom, start, end (missing: {sorted(missing)})")
        if len(regions_of_interest) == 0:
            raise ValueError("regions_of_interest is empty")
        if buffer_size < 1:
            raise ValueError(f"buffer_size must be at least 1, got {buffer_size}")
        self._chroms = regions_of_interest["chrom"].astype(str).to_numpy()
        self._starts = regions_of_interest["start"].to_numpy(dtype=np.int64, copy=True)
        lengths = regions_of_interest["end"].to_numpy(dtype=np.int64) - self._starts
        if np.any(lengths <= 0):
            i = int(np.argmax(lengths <= 0))
            raise ValueError(f"region {i} of regions_of_interest has start >= end")
        self._cumulative = np.cumsum(lengths)
        self.total_bases = int(self._cumulative[-1])
        self.buffer_size = buffer_size
        self.repeat_same = repeat_same
        self._rng = np.random.default_rng(seed)
        self._buffer: tuple[np.ndarray, np.ndarray] | None = None
        self._next = 0

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n centres at once: (chromosome names, centres)."""
        draws = self._rng.integers(0, self.total_bases, n)
        region = np.searchsorted(self._cumulative, draws, side="right")
        offset = draws - np.r_[0, self._cumulative][region]  # bases into the chosen region
        return self._chroms[region], self._starts[region] + offset

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next n items of the stream ``__next__`` yields, at once: (chromosome names,
        centres), numpy arrays. Interleaves with ``__next__`` (one stream, one buffer)."""
        chroms_parts, centre_parts = [], []
        while n > 0:
            if self._buffer is None or self._next == self.buffer_size:
                if self._buffer is None or not self.repeat_same:
                    self._buffer = self.sample(self.buffer_size)
                self._next = 0
            stop = min(self.buffer_size, self._next + n)
            chroms_parts.append(self._buffer[0][self._next : stop])
            centre_parts.append(self._buffer[1][self._next : stop])
            n -= stop - self._next
            self._next = stop
        if not chroms_parts:
            return self._chroms[:0], np.empty(0, dtype=np.int64)
        return np.concatenate(chroms_parts), np.concatenate(centre_parts).astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return self

    def __next__(self) -> tuple[str, int]:
        if self._buffer is None or self._next == self.buffer_size:
            if self._buffer is None or not self.repeat_same:
                self._buffer = self.sample(self.buffer_size)
            self._next = 0
        chroms, centres = self._buffer
        i = self._next
        self._next += 1
        return str(chroms[i]), int(centres[i])
