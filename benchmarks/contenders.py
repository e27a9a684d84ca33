"""The loaders a user would pick instead of this library, each as one batch reader.

A reader takes a batch of windows (chromosomes, starts, ends; all of one length) and returns
float32 values ``(batch, length // bin, tracks)`` with NaN where no data is stored, the layout
of ``BigWigCollection.get_batch(..., default_value=nan)``. With ``bin > 1`` every cell is the
mean of the covered bases of its ``bin`` bases (NaN when none is covered), which is what
pyBigWig's ``stats(type="mean", exact=True)`` and the others' exact binned means compute.
Readers return only when the values are ready, so a timer around one call times it all.
Every reader is created, and every file opened, before any timing. A reader whose own layout
differs (figwig's (batch, tracks, length)) is timed in it and has a ``to_harness`` method that
the untimed check applies (`harness_layout`).

`Contender` names a reader and how to make it (`make_reader`), so that a worker process of
benchmarks/workers.py can make it there.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import bigwig_loader
from bigwig_loader import throughput

Reader = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
ORACLE = "pyBigWig loop"


def ours(
    paths: Sequence[Path],
    bin_size: int,
    device: str = "cpu",
    threads: int | None = None,
    cache_bytes: int | None = None,
) -> Reader:
    """get_batch; its output stays where it was made (see as_numpy): a training step would use
    a GPU batch in place, so the copy back is no part of the time. cache_bytes as
    BigWigCollection's (None: the default bound; 0: no block cache)."""
    collection = bigwig_loader.BigWigCollection(paths, n_threads=threads, cache_bytes=cache_bytes)
    return throughput.batch_loader(collection, window_size=bin_size, device=device, default_value=np.nan)


def as_numpy(batch) -> np.ndarray:
    """A contender's output on the host, for checking."""
    if isinstance(batch, np.ndarray):
        return batch
    if batch.__dlpack_device__()[0] == 1:  # kDLCPU
        return np.from_dlpack(batch)
    import torch

    return torch.from_dlpack(batch).cpu().numpy()


class LoopReader:
    """A Python loop over tracks and windows, as users write it, with every file opened once
    beforehand by `open_all()`. With `reopen_each_batch`, before_batch() opens them afresh
    (untimed), so that a reader that caches inflated blocks per handle starts each batch with an
    empty cache: cold as bigwig_loader with its cache off is, which keeps nothing between batches
    (emptied only each pass, a pass of many small batches over one chromosome read most blocks
    warm from the earlier batches: 72,854 windows/s for 1 track at batch 1, cold or not)."""

    def __init__(
        self,
        open_all: Callable[[], list],
        read_one: Callable[..., np.ndarray],
        bin_size: int,
        reopen_each_batch: bool = False,
    ):
        self.open_all, self.read_one, self.bin_size = open_all, read_one, bin_size
        self.handles = open_all()
        if reopen_each_batch:
            self.before_batch = self._reopen

    def _reopen(self) -> None:
        self.handles = None  # the old handles closed before the new ones open
        self.handles = self.open_all()

    def __call__(self, chroms, starts, ends) -> np.ndarray:
        cells = int(ends[0] - starts[0]) // self.bin_size
        out = np.empty((len(starts), cells, len(self.handles)), dtype=np.float32)
        for k, h in enumerate(self.handles):
            for w, (c, s, e) in enumerate(zip(chroms, starts.tolist(), ends.tolist())):
                out[w, :, k] = self.read_one(h, str(c), s, s + cells * self.bin_size, cells)
        return out


def ours_single_file_loop(paths: Sequence[Path], bin_size: int) -> Reader:
    """bigwig_loader.BigWig.values, one window and one file a call (base resolution only)."""
    if bin_size != 1:
        raise ValueError("BigWig.values reads single bases")
    return LoopReader(lambda: [bigwig_loader.BigWig(p) for p in paths], lambda h, c, s, e, n: h.values(c, s, e), 1)


def binned_mean(values: np.ndarray, bin_size: int) -> np.ndarray:
    """Mean of the non-NaN values of each bin of the last axis, NaN where a bin has none (float64;
    a last axis of n bases gives n // bin_size bins, a partial last bin dropped)."""
    cells = values.shape[-1] // bin_size
    bins = values[..., : cells * bin_size].reshape(*values.shape[:-1], cells, bin_size)
    covered = ~np.isnan(bins)
    counts = covered.sum(axis=-1)
    sums = np.where(covered, bins, 0).sum(axis=-1, dtype=np.float64)
    return np.divide(sums, counts, out=np.full(counts.shape, np.nan), where=counts > 0)


def pybigwig_loop(paths: Sequence[Path], bin_size: int) -> Reader:
    """pyBigWig's values, binned in numpy when bin > 1: exact, and far faster than its
    stats(exact=True), which walks the intervals once per bin."""
    import pyBigWig

    def one(h, c, s, e, n):
        values = h.values(c, s, e, numpy=True)
        return values if bin_size == 1 else binned_mean(values, bin_size)

    return LoopReader(lambda: [pyBigWig.open(str(p)) for p in paths], one, bin_size)


def _exact_mean(bin_size: int, bins: int) -> dict:
    """pybigtools' and pybbi's keywords for `bins` exact means; none at base resolution."""
    return {} if bin_size == 1 else {"bins": bins, "summary": "mean", "exact": True}


def pybigtools_loop(paths: Sequence[Path], bin_size: int, fresh_cache: bool = False) -> Reader:
    """pybigtools keeps a cache of inflated blocks per open file; `fresh_cache` empties it before
    every batch (the windows of a run of batches otherwise share many of their blocks)."""
    import pybigtools

    return LoopReader(
        lambda: [pybigtools.open(str(p)) for p in paths],
        lambda h, c, s, e, n: h.values(c, s, e, fillna=np.nan, **_exact_mean(bin_size, n)),
        bin_size,
        reopen_each_batch=fresh_cache,
    )


def pybbi_loop(paths: Sequence[Path], bin_size: int) -> Reader:
    import bbi

    return LoopReader(
        lambda: [bbi.open(str(p)) for p in paths],
        lambda h, c, s, e, n: h.fetch(c, s, e, missing=np.nan, **_exact_mean(bin_size, n)),
        bin_size,
    )


class FigwigReader:
    """figwig's read_bigwig over every file, opened once as figwig.BigWigReader (its data index is
    read on the first read: the untimed check, which also compiles its numba kernels). One call
    reads a batch of every track on `n_jobs` threads (default: every CPU) into figwig's own layout,
    (batch, tracks, length), which is what is timed; with bin > 1 figwig reads every base and
    numpy averages the bins (binned_mean) inside the timed call, as a user of figwig would."""

    def __init__(self, paths: Sequence[Path], bin_size: int, n_jobs: int | None = None):
        import figwig

        self.read_bigwig = figwig.read_bigwig
        self.readers = [figwig.BigWigReader(str(p)) for p in paths]
        self.bin_size = bin_size
        self.n_jobs = n_jobs or os.cpu_count() or 1

    def __call__(self, chroms, starts, ends) -> np.ndarray:
        width = int(ends[0] - starts[0])
        out = self.read_bigwig(self.readers, chroms, starts, width, n_jobs=self.n_jobs, missing=np.nan, keep_nan=True)
        return out if self.bin_size == 1 else binned_mean(out, self.bin_size).astype(np.float32)

    @staticmethod
    def to_harness(out: np.ndarray) -> np.ndarray:
        """(batch, tracks, cells) -> (batch, cells, tracks)."""
        return np.ascontiguousarray(out.transpose(0, 2, 1))


def harness_layout(reader, batch) -> np.ndarray:
    """A reader's output as numpy (batch, length // bin, tracks), for checking."""
    out = as_numpy(batch)
    return reader.to_harness(out) if hasattr(reader, "to_harness") else out


class WindowTable:
    """Every window a case will ask for, fixed before any DataLoader forks its workers, so that
    a batch is a list of row numbers and every contender reads identical windows."""

    def __init__(self, batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
        self.chroms = np.concatenate([b[0] for b in batches])
        self.starts = np.concatenate([b[1] for b in batches])
        self.ends = np.concatenate([b[2] for b in batches])
        self.rows: list[list[int]] = []
        at = 0
        for b in batches:
            self.rows.append(list(range(at, at + len(b[0]))))
            at += len(b[0])

    def batch(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batch b's (chroms, starts, ends), as views (each batch is a run of rows)."""
        rows = slice(self.rows[b][0], self.rows[b][-1] + 1) if self.rows[b] else slice(0, 0)
        return self.chroms[rows], self.starts[rows], self.ends[rows]


class _PyBigWigWindows:
    """A map-style torch Dataset: window i of the table, every track read with pyBigWig in the
    worker (files opened lazily, once per worker process)."""

    def __init__(self, table: WindowTable, paths: Sequence[Path], bin_size: int):
        self.table, self.paths, self.bin_size = table, [str(p) for p in paths], bin_size
        self._read: Reader | None = None

    def __len__(self) -> int:
        return len(self.table.starts)

    def __getitem__(self, i: int) -> np.ndarray:
        if self._read is None:
            self._read = pybigwig_loop(self.paths, self.bin_size)
        t = self.table
        return self._read(t.chroms[i : i + 1], t.starts[i : i + 1], t.ends[i : i + 1])[0]


class _RowBatches:
    """The batch sampler: yields the rows of the batches set for the current pass, so one
    DataLoader (and its persistent workers) serves every pass."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class DataLoaderContender:
    """pyBigWig in a torch DataLoader with `workers` worker processes. Timed as whole passes
    (`run_pass`): per-batch timing would let the workers prefetch while other contenders are
    being timed on the same cores."""

    def __init__(self, table: WindowTable, paths: Sequence[Path], bin_size: int, workers: int):
        import torch

        self.sampler = _RowBatches()
        self.loader = torch.utils.data.DataLoader(
            _PyBigWigWindows(table, paths, bin_size),
            batch_sampler=self.sampler,
            num_workers=workers,
            persistent_workers=True,
            collate_fn=lambda items: np.stack(items),
            # Forked, as a Linux DataLoader's workers are by default: in a harness worker (itself
            # started by 'spawn') the default would be spawn, which cannot send this collate_fn.
            multiprocessing_context="fork",
        )
        self.table = table

    def run_pass(self, batch_numbers: Sequence[int]) -> list[np.ndarray]:
        self.sampler.batches = [self.table.rows[b] for b in batch_numbers]
        return list(self.loader)


def dataloader_worker_counts() -> list[int]:
    """1, 2 and all CPUs, each once (on a 2-CPU machine: 1 and 2)."""
    return sorted({1, 2, os.cpu_count() or 1})


@dataclass(frozen=True)
class Contender:
    """A reader by name: `kind` is a key of KINDS, `options` its keyword arguments. Picklable, so
    that a worker process can make the reader (make_reader) from it."""

    name: str
    kind: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def loop(self) -> bool:
        """A Python loop over windows and tracks (its time grows with windows x tracks whatever the
        batch size: the harness can tell from one point how long the next would take)."""
        return self.kind in LOOP_KINDS


KINDS: dict[str, Callable[..., Any]] = {
    "ours": lambda paths, bin_size, table, **o: ours(paths, bin_size, **o),
    "values_loop": lambda paths, bin_size, table: ours_single_file_loop(paths, bin_size),
    "pybigwig": lambda paths, bin_size, table: pybigwig_loop(paths, bin_size),
    "pybigtools": lambda paths, bin_size, table, **o: pybigtools_loop(paths, bin_size, **o),
    "pybbi": lambda paths, bin_size, table: pybbi_loop(paths, bin_size),
    "figwig": lambda paths, bin_size, table: FigwigReader(paths, bin_size),
    "dataloader": lambda paths, bin_size, table, **o: DataLoaderContender(table, paths, bin_size, **o),
}
LOOP_KINDS = {"values_loop", "pybigwig", "pybigtools", "pybbi", "dataloader"}
# The module each optional kind needs; a contender whose module is missing is left out.
NEEDS = {"pybbi": "bbi", "figwig": "figwig", "dataloader": "torch"}


def installed(kind: str) -> bool:
    return kind not in NEEDS or importlib.util.find_spec(NEEDS[kind]) is not None


def make_reader(contender: Contender, paths: Sequence[Path], bin_size: int, table: WindowTable):
    return KINDS[contender.kind](paths, bin_size, table, **dict(contender.options))
