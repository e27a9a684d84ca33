"""The cache of decoded blocks a :class:`BigWigCollection` owns: its size, its counters, and
filling it up front (``preload``).

A block (about 25 kb of one track) is read, inflated and decoded once; its runs then stay in
memory, shared by every ``get_batch`` call, loader worker and epoch, until the byte bound makes
the least recently used block go. Training that revisits the same regions (peaks plus
background for tens of epochs, a validation set every epoch, jittered windows) then reads them
at memory speed from the second epoch on.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import namedtuple
from typing import Any

import numpy as np

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "evictions", "blocks", "bytes", "max_bytes"])
CacheInfo.__doc__ = """What a collection's block cache has done and holds, in the shape of
``functools.lru_cache``'s ``cache_info()``: ``hits`` and ``misses`` count block look-ups by
batches, ``evictions`` the blocks dropped for room, ``blocks`` and ``bytes`` what is held now
(bytes counted against the bound: decoded runs plus a small per-block overhead), ``max_bytes``
the bound."""

# The default bound: an eighth of the memory this process may use, at most 4 GiB. An eighth
# leaves room for the model, the data loader's queues and the rest of the machine; 4 GiB
# holds the blocks under a few hundred Mb of regions for tens of tracks (a ChromBPNet-sized
# training set) and is small next to a GPU training node's memory.
DEFAULT_CACHE_FRACTION = 8
DEFAULT_CACHE_CAP = 4 << 30

# Regions per preload call into C++: the progress bar moves once per chunk.
_PRELOAD_CHUNK = 2048


def cache_info_of(core_collection: Any) -> CacheInfo:
    """The named CacheInfo of a ``_core.Collection``, whose ``cache_info()`` is a plain tuple in
    CacheInfo's order: the one place that tuple is read."""
    return CacheInfo(*(int(x) for x in core_collection.cache_info()))


def _bytes_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"


def _memory_limit() -> int:
    """Physical memory, or the cgroup's limit when one is set and lower (containers)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def default_cache_bytes() -> int:
    """The cache bound a collection gets when none is given: min(memory / 8, 4 GiB)."""
    return min(_memory_limit() // DEFAULT_CACHE_FRACTION, DEFAULT_CACHE_CAP)


def check_cache_bytes(cache_bytes: Any) -> int:
    """``None`` -> the default; a non-negative integer as is (0 turns the cache off)."""
    if cache_bytes is None:
        return default_cache_bytes()
    if isinstance(cache_bytes, (bool, np.bool_)) or not isinstance(cache_bytes, (int, np.integer)):
        raise TypeError(f"cache_bytes must be an integer number of bytes, got {type(cache_bytes).__name__}")
    if cache_bytes < 0:
        raise ValueError(f"cache_bytes must be 0 (no cache) or more, got {cache_bytes}")
    return int(cache_bytes)


def preload(collection: Any, regions: Any, progress: bool | None = None, n_threads: int | None = None) -> CacheInfo:
    """Decodes every block under ``regions`` (a DataFrame with ``chrom``, ``start``, ``end``) of
    every track into ``collection``'s cache, on a pool of ``n_threads`` threads, never evicting;
    stops at the bound with a warning that says how much of the regions fit. A progress bar on
    stderr when ``progress`` is True, or by default (None) when stderr is a terminal, as the
    command line's bars (a log file gets no bar). Returns ``collection.cache_info()``."""
    for column in ("chrom", "start", "end"):
        if column not in regions:
            raise ValueError(f"regions must have columns chrom, start and end; {column!r} is missing")
    chrom_ids = collection.chromosome_ids(np.asarray(regions["chrom"]))
    starts = np.asarray(regions["start"], dtype=np.int64)
    ends = np.asarray(regions["end"], dtype=np.int64)
    if np.any(ends < starts):
        i = int(np.argmax(ends < starts))
        raise ValueError(f"region {i} has start {starts[i]} > end {ends[i]}")
    core = collection.core_collection
    n = len(starts)
    if cache_info_of(core).max_bytes == 0:
        if n:
            warnings.warn("preload: the cache is off (cache_bytes=0); nothing was loaded", stacklevel=3)
        return collection.cache_info()
    from tqdm import tqdm

    threads = int(n_threads or collection.n_threads)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    with tqdm(total=n, disable=not show, unit="region", desc="preload", file=sys.stderr) as bar:
        for begin in range(0, n, _PRELOAD_CHUNK):
            end = min(n, begin + _PRELOAD_CHUNK)
            blocks, cached, full = core.preload(chrom_ids[begin:end], starts[begin:end], ends[begin:end], threads)
            if full:
                warnings.warn(_full_message(collection.cache_info().max_bytes, begin, n, cached, blocks), stacklevel=3)
                break
            bar.update(end - begin)
    return collection.cache_info()


def _full_message(bound: int, whole: int, n: int, cached: int, blocks: int) -> str:
    """What preload says when the cache fills: the regions before the chunk that filled it fit
    whole, and part of that chunk's blocks."""
    chunk = min(n - whole, _PRELOAD_CHUNK)
    return (
        f"preload stopped: the cache is full (cache_bytes is {_bytes_text(bound)}). It holds the blocks of "
        f"the first {whole:,} of the {n:,} regions ({100 * whole / n:.1f}%), and {cached:,} of the {blocks:,} "
        f"blocks of the next {chunk:,}; the rest will be read from the files when a batch needs them. "
        f"To hold them all, give the collection a larger cache_bytes."
    )
