"""Checks shared by the writer tests: a written file read back by pyBigWig, pybigtools and
this library's reader must agree with the data that went in, and pass `validate`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyBigWig
import pybigtools

import bigwig_loader
from bigwig_loader import _core

Intervals = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def assert_intact(path: Path) -> None:
    """What `bigwig-loader validate` checks: every data and zoom block reads and decodes."""
    survey = _core.survey_bigwig(str(path))
    assert survey["opened"], survey
    assert survey["problems"] == [], survey["problems"]


def assert_same_values(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)])


def assert_reads_back(path: Path, chrom_sizes: dict[str, int], expected: Intervals, per_base: bool = True) -> None:
    """Intervals identical in the three readers and equal to `expected` (chromosomes missing
    from `expected` have no data); per-base values identical too when `per_base`."""
    assert_intact(path)
    pb = pyBigWig.open(str(path))
    bt = pybigtools.open(str(path))
    ours = bigwig_loader.BigWig(path)
    try:
        assert pb.chroms() == chrom_sizes
        assert ours.chroms == chrom_sizes
        assert bt.chroms() == chrom_sizes
        for chrom, size in chrom_sizes.items():
            s, e, v = expected.get(chrom, (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)))
            os_, oe, ov = ours.intervals(chrom)
            np.testing.assert_array_equal(os_, s)
            np.testing.assert_array_equal(oe, e)
            assert_same_values(ov, np.asarray(v, np.float32))
            pb_iv = pb.intervals(chrom) or ()
            # pyBigWig's Python layer returns positions past 2^31 as negative ints: read as u32.
            assert [(a & 0xFFFFFFFF, b & 0xFFFFFFFF) for a, b, _ in pb_iv] == list(zip(s.tolist(), e.tolist()))
            assert_same_values(np.array([x for _, _, x in pb_iv], np.float32), np.asarray(v, np.float32))
            bt_iv = list(bt.records(chrom))
            assert [(a, b) for a, b, _ in bt_iv] == list(zip(s.tolist(), e.tolist()))
            assert_same_values(np.array([x for _, _, x in bt_iv], np.float32), np.asarray(v, np.float32))
            if per_base:
                mine = ours.values(chrom, 0, size)
                assert_same_values(mine, pb.values(chrom, 0, size, numpy=True).astype(np.float32))
                assert_same_values(mine, np.asarray(bt.values(chrom, 0, size, fillna=None), np.float32))
    finally:
        pb.close()
        bt.close()
        ours.close()


def exact_stats(s: np.ndarray, e: np.ndarray, v: np.ndarray, lo: int, hi: int) -> dict[str, float]:
    """Covered bases, min, max, sum and sum of squares of the data over [lo, hi), from the
    intervals themselves (NaN values excluded, as readers exclude them)."""
    cs, ce = np.maximum(s, lo), np.minimum(e, hi)
    keep = (ce > cs) & ~np.isnan(v)
    bases = (ce - cs)[keep].astype(np.float64)
    vals = v[keep].astype(np.float64)
    if bases.size == 0:
        return {"bases": 0, "min": math.nan, "max": math.nan, "sum": 0.0, "sum_squares": 0.0}
    return {
        "bases": int(bases.sum()),
        "min": float(vals.min()),
        "max": float(vals.max()),
        "sum": float((bases * vals).sum()),
        "sum_squares": float((bases * vals * vals).sum()),
    }
