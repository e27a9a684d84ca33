"""Regions of interest from the stored intervals of a collection (vectorised per chromosome)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def collection_intervals(
    core_collection: Any,
    chromosomes: Sequence[str],
    chrom_sizes: Mapping[str, int],
    *,
    blacklist: Any = None,
    blacklist_buffer: int = 0,
    padding: int = 0,
    merge: bool = False,
    threshold: float | None = 0.0,
    merge_allow_gap: int = 0,
    scaling_factors: Sequence[float] | np.ndarray | None = None,
):
    """Every stored interval of every file on `chromosomes`, as a DataFrame
    ``chrom, start, end, value``, in chromosome-table order and by start within one, as
    bigwig-loader 0.3 computes it (less its defects).

    Steps, in order:
    1. ``scaling_factors`` (one per file): each file's values are multiplied by its factor.
    2. ``threshold``: keep intervals whose scaled value is strictly greater (NaN never is).
       As in 0.3, ``0.0`` (the default) and ``None`` mean no threshold: zeros are kept.
    3. ``blacklist`` (a DataFrame with ``chrom, start, end``; never modified), each region
       widened by ``blacklist_buffer`` on both sides: its bases are subtracted, so an interval
       is cut to the parts outside it ([4, 22) minus [4, 20) is [20, 22)).
    4. ``padding``: widen each interval on both sides, clipped to the chromosome.
    5. ``merge``: join intervals that overlap or lie at most ``merge_allow_gap`` apart; a merged
       interval keeps the largest value.
    6. ``blacklist`` again: padding and merging never reach back into a blacklisted base.

    A chromosome missing from one file contributes nothing from that file.
    """
    import pandas as pd

    for name, value in (
        ("blacklist_buffer", blacklist_buffer),
        ("padding", padding),
        ("merge_allow_gap", merge_allow_gap),
    ):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    blocked = _blacklist_by_chrom(blacklist, blacklist_buffer)
    presence = core_collection.presence()
    chrom_index = {name: i for i, name in enumerate(core_collection.chrom_names)}
    n_files = len(core_collection)
    factors = np.ones(n_files, np.float32) if scaling_factors is None else np.asarray(scaling_factors, np.float32)
    if factors.shape != (n_files,):
        raise ValueError(f"scaling_factors needs one factor per file ({n_files}), got {factors.shape}")

    frames = []
    for chrom in chromosomes:
        files = [f for f in range(n_files) if presence[f, chrom_index[chrom]]]
        pieces = [core_collection.file_intervals(f, chrom) for f in files]
        if not pieces:
            continue
        starts = np.concatenate([p[0] for p in pieces])
        ends = np.concatenate([p[1] for p in pieces])
        values = np.concatenate([p[2] * factors[f] for f, p in zip(files, pieces)]).astype(np.float32, copy=False)
        if threshold:  # 0.3's reading: 0.0 and None are no threshold
            keep = values > threshold
            starts, ends, values = starts[keep], ends[keep], values[keep]
        if chrom in blocked:
            starts, ends, values = _subtract(starts, ends, values, *blocked[chrom])
        if padding:
            starts = np.maximum(starts - padding, 0)
            ends = np.minimum(ends + padding, chrom_sizes[chrom])
        order = np.lexsort((ends, starts))
        starts, ends, values = starts[order], ends[order], values[order]
        if merge and len(starts):
            starts, ends, values = _merge(starts, ends, values, merge_allow_gap)
        if chrom in blocked and (padding or merge):
            starts, ends, values = _subtract(starts, ends, values, *blocked[chrom])
        if len(starts):
            frames.append(pd.DataFrame({"chrom": chrom, "start": starts, "end": ends, "value": values}))
    if not frames:
        return pd.DataFrame(
            {
                "chrom": pd.Series(dtype=object),
                "start": pd.Series(dtype=np.int64),
                "end": pd.Series(dtype=np.int64),
                "value": pd.Series(dtype=np.float32),
            }
        )
    return pd.concat(frames, ignore_index=True)


def _blacklist_by_chrom(blacklist: Any, buffer: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Sorted, merged (start, end) arrays per chromosome, widened by `buffer`."""
    if blacklist is None:
        return {}
    missing = {"chrom", "start", "end"} - set(blacklist.columns)
    if missing:
        raise ValueError(f"blacklist needs the columns chrom, start, end (missing: {sorted(missing)})")
    out = {}
    for chrom, group in blacklist.groupby("chrom", sort=False):
        starts = group["start"].to_numpy(dtype=np.int64) - buffer
        ends = group["end"].to_numpy(dtype=np.int64) + buffer
        order = np.argsort(starts, kind="stable")
        merged_starts, merged_ends, _ = _merge(starts[order], ends[order], np.zeros(len(order), np.float32), 0)
        out[str(chrom)] = (merged_starts, merged_ends)
    return out


def _subtract(
    starts: np.ndarray, ends: np.ndarray, values: np.ndarray, region_starts: np.ndarray, region_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each [start, end) minus the regions (sorted, disjoint, not touching): the parts left,
    each keeping its interval's value, in input order (an interval's parts by start)."""
    # The gaps between regions: gap k is [region_ends[k-1], region_starts[k]), with open ends.
    gap_starts = np.r_[np.iinfo(np.int64).min, region_ends]
    gap_ends = np.r_[region_starts, np.iinfo(np.int64).max]
    # An interval meets the gaps first..last: those ending after its start and starting before its end.
    first = np.searchsorted(gap_ends, starts, side="right")
    last = np.searchsorted(gap_starts, ends, side="left") - 1
    counts = np.maximum(last - first + 1, 0)
    owner = np.repeat(np.arange(len(starts)), counts)
    gap = np.repeat(first, counts) + (np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts))
    new_starts = np.maximum(starts[owner], gap_starts[gap])
    new_ends = np.minimum(ends[owner], gap_ends[gap])
    keep = new_ends > new_starts
    return new_starts[keep], new_ends[keep], values[owner][keep]


def _merge(starts: np.ndarray, ends: np.ndarray, values: np.ndarray, allow_gap: int):
    """Merges sorted intervals that overlap or are at most `allow_gap` apart; keeps the max value."""
    reach = np.maximum.accumulate(ends)
    new_group = np.empty(len(starts), dtype=bool)
    new_group[0] = True
    new_group[1:] = starts[1:] > reach[:-1] + allow_gap
    first = np.flatnonzero(new_group)
    last = np.r_[first[1:], len(starts)] - 1
    return starts[first], reach[last], np.maximum.reduceat(values, first)
