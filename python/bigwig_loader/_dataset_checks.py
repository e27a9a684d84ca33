"""What BigWigDataset checks so that it never waits for a window it cannot find.

A window is usable when its sequence lies inside its chromosome of the reference genome with
at most ``maximum_unknown_bases_fraction`` unknown bases. :func:`check_windows_possible` refuses,
at construction, what makes every draw fruitless (a region on no chromosome of the FASTA, or
one no window of ``sequence_length`` fits in, a fraction outside [0, 1]); :class:`FruitlessDraws`
stops the drawing, with the reason, when many windows in a row are still unusable (for example
every window over the unknown-bases limit), which only drawing can find out.
:func:`check_regions_tracked` refuses a region on a chromosome no bigWig file has, which would
fail only when a window there is read.

The datasets' other argument checks live here too (the general ones in ``_arguments``): each
raises a TypeError or ValueError naming the argument.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from bigwig_loader import _arguments

# Windows drawn in a row without a usable one before the dataset gives up: ~200 draws of 512.
FRUITLESS_WINDOW_LIMIT = 100_000


def check_unknown_fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"maximum_unknown_bases_fraction must be a number in [0, 1], got {value!r}")
    return float(value)


def check_regions(regions: Any) -> pd.DataFrame:
    """regions_of_interest: a pandas DataFrame with the columns chrom, start, end and a row."""
    if not isinstance(regions, pd.DataFrame):
        raise TypeError(
            f"regions_of_interest must be a pandas DataFrame with the columns chrom, start, end, "
            f"got {_arguments._describe(regions)}"
        )
    missing = {"chrom", "start", "end"} - set(regions.columns)
    if missing:
        raise ValueError(f"regions_of_interest needs the columns chrom, start, end (missing: {sorted(missing)})")
    if len(regions) == 0:
        raise ValueError("regions_of_interest is empty")
    return regions


def check_window_size(window_size: Any, center_bin_to_predict: int) -> int:
    """window_size: a positive integer dividing center_bin_to_predict. A remainder would be a
    partial output cell, which the values would drop without a word."""
    size = _arguments.integer(window_size, "window_size", 1)
    if center_bin_to_predict % size:
        raise ValueError(
            f"window_size {size} must divide center_bin_to_predict {center_bin_to_predict} "
            f"(the last {center_bin_to_predict % size} bases would be a partial cell, dropped)"
        )
    return size


def check_super_batch_size(super_batch_size: Any, batch_size: int) -> int:
    """super_batch_size: None (batch_size) or an integer of at least batch_size."""
    if super_batch_size is None:
        return batch_size
    size = _arguments.integer(super_batch_size, "super_batch_size", 1)
    if size < batch_size:
        raise ValueError(f"super_batch_size {size} is smaller than batch_size {batch_size}")
    return size


def check_strand_pairs(strand_pairs: Any, n_tracks: int) -> list[tuple[int, int]]:
    """strand_pairs: None or pairs (i, j) of distinct track indices, each track in one pair at
    most (a track with two partners has no single column to swap with)."""
    if strand_pairs is None:
        return []
    if isinstance(strand_pairs, (str, bytes)) or not isinstance(strand_pairs, Iterable):
        raise TypeError(
            f"strand_pairs must be a list of pairs (i, j) of track indices, got {_arguments._describe(strand_pairs)}"
        )
    pairs: list[tuple[int, int]] = []
    partner_of: dict[int, int] = {}  # track: the pair it is in
    for k, pair in enumerate(strand_pairs):
        name = f"strand_pairs[{k}]"
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable) or len(items := tuple(pair)) != 2:
            raise TypeError(f"{name} must be a pair (i, j) of track indices, got {_arguments._describe(pair)}")
        i, j = (_arguments.integer(t, name, 0) for t in items)
        if i >= n_tracks or j >= n_tracks:
            raise ValueError(f"{name} ({i}, {j}) names a track outside the collection's {n_tracks}")
        if i == j:
            raise ValueError(f"{name} pairs track {i} with itself")
        for t in (i, j):
            if t in partner_of:
                raise ValueError(f"track {t} is in strand_pairs[{partner_of[t]}] and {name}: a track has one partner")
            partner_of[t] = k
        pairs.append((i, j))
    return pairs


def check_windows_possible(regions: Any, chrom_sizes: Mapping[str, int], sequence_length: int, fasta: str) -> None:
    """ValueError naming the first region on a chromosome the FASTA lacks, or lying wholly
    outside its chromosome (partly outside is fine: windows there are redrawn), and when no
    region can hold a whole window of ``sequence_length`` bases around any of its centres (the
    sampler draws centres inside the regions). The regions passed check_regions."""
    chroms = regions["chrom"].astype(str).to_numpy()
    starts = regions["start"].to_numpy(dtype=np.int64)
    ends = regions["end"].to_numpy(dtype=np.int64)
    # Each region's chromosome size in the FASTA, -1 where the FASTA lacks the chromosome.
    region_sizes = regions["chrom"].astype(str).map(dict(chrom_sizes)).fillna(-1).to_numpy(dtype=np.int64)

    def first(mask: np.ndarray) -> int:
        return int(np.argmax(mask))

    absent = region_sizes < 0
    if absent.any():
        i = first(absent)
        raise ValueError(f"region {i} of regions_of_interest is on {chroms[i]!r}, which {fasta} lacks")
    outside = (ends <= 0) | (starts >= region_sizes) | (starts >= ends)
    if outside.any():
        i = first(outside)
        raise ValueError(
            f"region {i} of regions_of_interest ({chroms[i]}:{starts[i]}-{ends[i]}) is empty or lies outside "
            f"{chroms[i]} (0-{region_sizes[i]} in {fasta})"
        )
    too_short = region_sizes < sequence_length
    if too_short.all():
        i = first(too_short)
        raise ValueError(
            f"sequence_length {sequence_length} is longer than the chromosome of every region "
            f"(e.g. region {i} on {chroms[i]}, {region_sizes[i]} bases in {fasta})"
        )
    # Centres c in [start, end) whose window [c - half, c - half + length) fits in [0, size).
    half = sequence_length // 2
    lowest = np.maximum(starts, half)
    highest = np.minimum(ends - 1, region_sizes - sequence_length + half)
    if np.all(lowest > highest):
        raise ValueError(
            f"no window of sequence_length {sequence_length} centred in any region of regions_of_interest "
            f"lies inside its chromosome (e.g. region 0, {chroms[0]}:{starts[0]}-{ends[0]}, "
            f"{chroms[0]} has {region_sizes[0]} bases in {fasta})"
        )


def check_regions_tracked(regions: Any, find_chromosome: Callable[[str], int], n_files: int) -> None:
    """ValueError naming the first region on a chromosome that no file of the collection has:
    every window drawn there would raise KeyError, mid-training, when its batch is read."""
    chroms = regions["chrom"].astype(str).to_numpy()
    for name in pd.unique(chroms):
        if find_chromosome(name) < 0:
            i = int(np.argmax(chroms == name))
            raise ValueError(
                f"region {i} of regions_of_interest is on {name!r}, which no file of the collection has "
                f"({n_files} file{'s' if n_files != 1 else ''})"
            )


class FruitlessDraws:
    """Counts windows drawn in a row without a usable one; raises ValueError saying why once
    `limit` are reached."""

    def __init__(
        self,
        sequence_length: int,
        maximum_unknown_bases_fraction: float,
        fasta: str,
        limit: int = FRUITLESS_WINDOW_LIMIT,
    ) -> None:
        self.sequence_length = sequence_length
        self.fraction = maximum_unknown_bases_fraction
        self.fasta = fasta
        self.limit = limit
        self.in_a_row = 0

    def record(self, drawn: int, usable: int) -> None:
        self.in_a_row = 0 if usable else self.in_a_row + drawn
        if self.in_a_row >= self.limit:
            raise ValueError(
                f"BigWigDataset gave up: {self.in_a_row} windows drawn in a row and none is usable. Each either "
                f"reaches outside its chromosome of {self.fasta} (sequence_length {self.sequence_length}, with "
                f"jitter) or has more than maximum_unknown_bases_fraction={self.fraction} of its bases other "
                "than A, C, G, T: check the regions of interest against the reference genome"
            )
