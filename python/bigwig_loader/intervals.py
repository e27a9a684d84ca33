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
    threshold: float | None = None,
    merge_allow_gap: int = 0,
):
    """Every stored interval of every file on `chromosomes`, as a DataFrame
    ``chrom, start, end, value``, in chromosome-table order and by start within one.

    Steps, in order:
    1. ``threshold``: keep intervals whose value is strictly greater (NaN never is).
    2. ``blacklist`` (a DataFrame with ``chrom, start, end``; never modified): drop intervals
       overlapping a blacklisted region widened by ``blacklist_buffer`` on each side.
    3. ``padding``: widen each interval on both sides, clipped to the chromosome.
    4. ``merge``: join intervals that overlap or lie at most ``merge_allow_gap`` apart; a merged
       interval keeps the largest value.

    A chromosome missing from one file contributes nothing from that file.
    """
    import pandas as pd

    for name, value in (("blacklist_buffer", blacklist_buffer), ("padding", padding), ("merge_allow_gap", merge_allow_gap)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    blocked = _blacklist_by_chrom(blacklist, blacklist_buffer)
    presence = core_collection.presence()
    chrom_index = {name: i for i, name in enumerate(core_collection.chrom_names)}

    frames = []
    for chrom in chromosomes:
        pieces = [
            core_collection.file_intervals(f, chrom)
            for f in range(len(core_collection))
            if presence[f, chrom_index[chrom]]
        ]
        if not pieces:
            continue
        starts = np.concatenate([p[0] for p in pieces])
        ends = np.concatenate([p[1] for p in pieces])
        values = np.concatenate([p[2] for p in pieces])
        if threshold is not None:
            keep = values > threshold
            starts, ends, values = starts[keep], ends[keep], values[keep]
        if chrom in blocked:
            keep = ~_overlaps_any(starts, ends, *blocked[chrom])
            starts, ends, values = starts[keep], ends[keep], values[keep]
        if padding:
            starts = np.maximum(starts - padding, 0)
            ends = np.minimum(ends + padding, chrom_sizes[chrom])
        order = np.lexsort((ends, starts))
        starts, ends, values = starts[order], ends[order], values[order]
        if merge and len(starts):
            starts, ends, values = _merge(starts, ends, values, merge_allow_gap)
        if len(starts):
            frames.append(pd.DataFrame({"chrom": chrom, "start": starts, "end": ends, "value": values}))
    if not frames:
        return pd.DataFrame(
            {"chrom": pd.Series(dtype=object), "start": pd.Series(dtype=np.int64),
             "end": pd.Series(dtype=np.int64), "value": pd.Series(dtype=np.float32)}
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


def _overlaps_any(starts: np.ndarray, ends: np.ndarray, region_starts: np.ndarray, region_ends: np.ndarray) -> np.ndarray:
    """For each [start, end): does it overlap a region? Regions are sorted and disjoint."""
    # The last region starting before `end` is the only one that can overlap.
    i = np.searchsorted(region_starts, ends, side="left") - 1
    valid = i >= 0
    hit = np.zeros(len(starts), dtype=bool)
    hit[valid] = region_ends[i[valid]] > starts[valid]
    return hit


def _merge(starts: np.ndarray, ends: np.ndarray, values: np.ndarray, allow_gap: int):
    """Merges sorted intervals that overlap or are at most `allow_gap` apart; keeps the max value."""
    reach = np.maximum.accumulate(ends)
    new_group = np.empty(len(starts), dtype=bool)
    new_group[0] = True
    new_group[1:] = starts[1:] > reach[:-1] + allow_gap
    first = np.flatnonzero(new_group)
    last = np.r_[first[1:], len(starts)] - 1
    return starts[first], reach[last], np.maximum.reduceat(values, first)
