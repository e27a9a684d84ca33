"""A plain numpy reference of get_batch, built on pyBigWig (the oracle) base by base."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyBigWig


def reference_batch(
    paths: Sequence[Path],
    chroms: Sequence[str],
    starts: Sequence[int],
    ends: Sequence[int],
    *,
    window_size: int = 1,
    default_value: float = 0.0,
    scales: Sequence[float] | None = None,
) -> np.ndarray:
    """(batch, length // window_size, len(paths)) float32, following REFERENCE.md's arithmetic:
    per cell, NaN default -> mean of covered bases (NaN if none); else
    (sum of covered + uncovered * default) / window_size. Scale multiplies stored values only."""
    length = int(ends[0]) - int(starts[0])
    cells = length // window_size
    scales = [1.0] * len(paths) if scales is None else scales
    out = np.empty((len(starts), cells, len(paths)), dtype=np.float32)
    for k, path in enumerate(paths):
        scale = np.float32(scales[k])
        with pyBigWig.open(str(path)) as bw:
            sizes = bw.chroms()
            for w, (chrom, start) in enumerate(zip(chroms, starts)):
                start = int(start)
                values = np.zeros(cells * window_size, dtype=np.float32)
                covered = np.zeros(cells * window_size, dtype=bool)
                if chrom in sizes:
                    lo, hi = max(start, 0), min(start + cells * window_size, sizes[chrom])
                    if lo < hi:
                        for s, e, v in bw.intervals(chrom, lo, hi) or ():
                            s, e = max(s, lo) - start, min(e, hi) - start
                            values[s:e] = v
                            covered[s:e] = True
                if window_size == 1:
                    out[w, :, k] = np.where(covered, values * scale, np.float32(default_value))
                    continue
                v = values.reshape(cells, window_size).astype(np.float64)
                c = covered.reshape(cells, window_size)
                sums = np.where(c, v, 0.0).sum(axis=1)
                n = c.sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    if np.isnan(default_value):
                        cell = np.where(n > 0, sums * float(scale) / n, np.nan)
                    else:
                        cell = (sums * float(scale) + (window_size - n) * float(default_value)) / window_size
                out[w, :, k] = cell.astype(np.float32)
    return out
