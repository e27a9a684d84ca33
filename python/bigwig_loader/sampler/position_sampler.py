"""`RandomPositionSampler`: window centres drawn uniformly over every base of the regions."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np

# Centres drawn at once when the buffer is not repeated: numpy's bounded integer draws are the
# same stream however they are split into calls (tests/python/test_samplers.py checks it), so
# drawing a buffer of buffer_size in pieces changes no centre, and an epoch that needs fewer
# than buffer_size pays for what it takes.
_PIECE = 8192


class RandomPositionSampler:
    """Yields ``(chromosome, centre)`` forever, each centre uniform over all bases of all
    regions of interest (a region's weight is its length; the last region and a lone region
    are sampled like any other).

    Args:
        regions_of_interest: DataFrame with columns ``chrom, start, end`` (never modified).
        buffer_size: centres drawn at a time.
        repeat_same: repeat the first buffer of centres forever (a fixed validation set); each
            ``iter()`` starts it again from its first centre, as in 0.3.
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
        # Chromosomes as codes into one table of names: a draw carries small ints, and names
        # are made from them only where asked for (take, __next__).
        self.chromosome_names, codes = np.unique(
            regions_of_interest["chrom"].astype(str).to_numpy(), return_inverse=True
        )
        self._codes = codes.reshape(-1).astype(np.int64)
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

    def with_seed(self, seed) -> RandomPositionSampler:
        """A sampler over the same regions and settings with a generator of its own, seeded with
        `seed`, as if made anew: the region tables are shared, not rebuilt (a dataset makes one per
        epoch)."""
        fresh = copy.copy(self)
        fresh._rng = np.random.default_rng(seed)
        fresh._buffer = None
        fresh._next = 0
        return fresh

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n centres at once: (chromosome names, centres)."""
        codes, centres = self._sample_codes(n)
        return self.chromosome_names[codes], centres

    def _sample_codes(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        draws = self._rng.integers(0, self.total_bases, n)
        region = np.searchsorted(self._cumulative, draws, side="right")
        offset = draws - np.r_[0, self._cumulative][region]  # bases into the chosen region
        return self._codes[region], self._starts[region] + offset

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next n items of the stream ``__next__`` yields, at once: (chromosome names,
        centres), numpy arrays. Interleaves with ``__next__`` (one stream, one buffer)."""
        codes, centres = self.take_codes(n)
        return self.chromosome_names[codes], centres

    def take_codes(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """take, with each chromosome as its index into ``chromosome_names`` (int64)."""
        code_parts, centre_parts = [], []
        while n > 0:
            if self._buffer is None or self._next == len(self._buffer[1]):
                self._refill()
            stop = min(len(self._buffer[1]), self._next + n)
            code_parts.append(self._buffer[0][self._next : stop])
            centre_parts.append(self._buffer[1][self._next : stop])
            n -= stop - self._next
            self._next = stop
        if not code_parts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(code_parts), np.concatenate(centre_parts).astype(np.int64, copy=False)

    def _refill(self) -> None:
        """The next buffer: the first one again when repeating, else the stream's next centres
        (a piece of the buffer_size at a time; the same centres as one draw of buffer_size)."""
        if self.repeat_same:
            if self._buffer is None:
                self._buffer = self._sample_codes(self.buffer_size)
        else:
            self._buffer = self._sample_codes(min(self.buffer_size, _PIECE))
        self._next = 0

    def __iter__(self) -> Iterator[tuple[str, int]]:
        if self.repeat_same:
            self._next = 0  # every iteration yields the same positions (0.3's meaning)
        return self

    def __next__(self) -> tuple[str, int]:
        if self._buffer is None or self._next == len(self._buffer[1]):
            self._refill()
        codes, centres = self._buffer
        i = self._next
        self._next += 1
        return str(self.chromosome_names[codes[i]]), int(centres[i])
