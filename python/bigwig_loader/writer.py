"""Writing bigWig files: :class:`BigWigWriter` and :func:`write_bigwig`.

The file is what UCSC's ``bedGraphToBigWig`` writes (version 4, zlib blocks of up to 1,024
items, chromosome B+ tree, R-tree index, zoom levels by UCSC's reduction scheme, total
summary), encoded by the C++ core with the GIL released. It is written under a temporary name
in the same directory and renamed at close, so the real name only ever holds a complete file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Union

import numpy as np

from bigwig_loader import _core

ChromSizes = Union[Mapping[str, int], Iterable[tuple[str, int]], str, os.PathLike]


def read_chrom_sizes(path: str | os.PathLike[str]) -> dict[str, int]:
    """A UCSC chrom.sizes file (name, whitespace, size per line) as ``{name: size}``; blank
    lines and ``#`` comments are skipped. A malformed line raises ``ValueError`` naming it."""
    sizes: dict[str, int] = {}
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            where = f"{os.fspath(path)}, line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"{where}: not UTF-8 text (byte {e.start + 1} of the line)") from None
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) < 2 or not fields[1].isascii() or not fields[1].isdigit():
                raise ValueError(f"{where}: expected 'name size', got {line.rstrip()!r}")
            if fields[0] in sizes:
                raise ValueError(f"{where}: chromosome {fields[0]} is listed twice")
            sizes[fields[0]] = _chrom_size(fields[0], int(fields[1]), where)
    return sizes


def _chrom_size(name: str, size: int, where: str) -> int:
    """A chromosome size as bigWig stores it (32 bits), checked before it reaches the writer."""
    if not 1 <= size < 2**32:
        raise ValueError(f"{where}: chromosome {name} has size {size}; sizes must be in [1, 2^32)")
    return size


def _chrom_pairs(chrom_sizes: ChromSizes) -> list[tuple[str, int]]:
    if isinstance(chrom_sizes, (str, os.PathLike)):
        chrom_sizes = read_chrom_sizes(chrom_sizes)
    if hasattr(chrom_sizes, "items"):  # dict, pandas Series
        items = list(chrom_sizes.items())
    else:
        items = list(chrom_sizes)
    pairs = []
    for item in items:
        try:
            name, size = item
        except (TypeError, ValueError):
            raise ValueError(f"chrom_sizes: expected (name, size) pairs, got {item!r}") from None
        if not isinstance(name, str):
            raise ValueError(f"chrom_sizes: chromosome name {name!r} is not a str")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise ValueError(f"chrom_sizes: size of {name} is {size!r}, not an integer")
        pairs.append((name, _chrom_size(name, int(size), "chrom_sizes")))
    return pairs


def _int_array(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _value_array(a: Any, name: str = "values") -> np.ndarray:
    """The values as bigWig stores them (float32). A finite value beyond float32's range would be
    stored as +-inf: refused, naming the first, instead."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):
        stored = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        overflow = np.isinf(stored) & np.isfinite(arr)
        if overflow.any():
            i = int(np.argmax(overflow))
            raise ValueError(
                f"{name}[{i}] = {float(arr[i])!r} is beyond float32's range (+-3.4e38), which bigWig stores values in"
            )
    return stored


def _chrom_name(chrom: Any) -> str:
    if not isinstance(chrom, str):
        raise TypeError(f"chrom must be a str (a chromosome name), got {type(chrom).__name__} {chrom!r}")
    return chrom


def _whole(x: Any, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {x!r}")
    return int(x)


class BigWigWriter:
    """Writes one bigWig file; use it as a context manager.

    ``chrom_sizes``: ``{name: size}``, a pandas Series, ``(name, size)`` pairs, or the path of
    a chrom.sizes file. Every chromosome listed is in the file's chromosome list.

    Data comes chromosome by chromosome, in any chromosome order, each chromosome in one
    stretch, sorted by start and never overlapping. Out of order, overlapping, past the
    chromosome's end or a chromosome met a second time: ``ValueError`` naming the chromosome;
    an unknown chromosome: ``KeyError``. A refused call adds nothing.

    NaN values mean "no data" and are skipped, unless ``keep_nan=True`` (then they are stored
    as NaN values, and left out of the header's summary and the zoom levels, as no value).
    ``compression_level``: 1 (fastest) to 12 (smallest; with zlib, 10 to 12 compress as 9);
    another is a ValueError. Values beyond float32's range are a ValueError, not infinities.
    Chromosome names: 1 to 4,096 bytes, no NUL (what the reader takes).

    The file appears under ``path`` only when :meth:`close` (or the end of the ``with``
    block) succeeds; an exception inside the ``with`` block, or :meth:`abort`, removes the
    temporary file and leaves any file already at ``path`` as it was.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        chrom_sizes: ChromSizes,
        *,
        keep_nan: bool = False,
        compression_level: int = 6,
    ) -> None:
        self._path = os.fspath(path)
        pairs = _chrom_pairs(chrom_sizes)
        self.chrom_sizes: dict[str, int] = dict(pairs)
        self._writer: _core.BigWigWriter | None = _core.BigWigWriter(
            self._path, pairs, bool(keep_nan), _whole(compression_level, "compression_level")
        )

    @property
    def path(self) -> str:
        return self._path

    def _open(self) -> _core.BigWigWriter:
        if self._writer is None or self._writer.closed:
            raise ValueError(f"{self._path}: the writer is closed")
        return self._writer

    def add_intervals(self, chrom: str, starts: Any, ends: Any, values: Any) -> None:
        """Intervals ``[starts[i], ends[i])`` with ``values[i]`` (array-likes of equal length),
        written as given: one bedGraph item each."""
        self._open().add_intervals(
            _chrom_name(chrom), _int_array(starts, "starts"), _int_array(ends, "ends"), _value_array(values)
        )

    def add_values(self, chrom: str, start: int, values: Any, span: int = 1, step: int | None = None) -> None:
        """Dense values: ``values[i]`` covers ``[start + i*step, start + i*step + span)``.

        With ``step=None`` (the default; the step is then ``span``) the values are written as
        bedGraph runs, equal neighbours merged into one run (a model's output at base or bin
        resolution). With an explicit ``step`` they are written as fixedStep sections of that
        step and span, one value each.
        """
        fixed_step = step is not None
        span = _whole(span, "span")
        step = span if step is None else _whole(step, "step")
        self._open().add_values(
            _chrom_name(chrom), _whole(start, "start"), _value_array(values), span, step, fixed_step
        )

    def close(self) -> None:
        """Writes the index, zoom levels and header and renames the file into place. A second
        call does nothing."""
        if self._writer is not None:
            self._writer.close()

    def abort(self) -> None:
        """Drops everything: the temporary file is removed and ``path`` is left untouched."""
        if self._writer is not None:
            self._writer.abort()

    def __enter__(self) -> BigWigWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        # Never closed: nothing under the real name (the C++ side removes the temporary file).
        writer = getattr(self, "_writer", None)
        if writer is not None and not writer.closed:
            writer.abort()

    def __repr__(self) -> str:
        state = "closed" if self._writer is None or self._writer.closed else "open"
        return f"BigWigWriter({self._path!r}, {len(self.chrom_sizes)} chromosomes, {state})"


def write_bigwig(
    path: str | os.PathLike[str],
    chrom_sizes: ChromSizes,
    intervals: Any,
    *,
    keep_nan: bool = False,
    compression_level: int = 6,
) -> None:
    """Writes a bigWig from a DataFrame with columns ``chrom``, ``start``, ``end``, ``value``
    (a bedGraph), in one call. Rows must be grouped by chromosome and sorted by start within
    each; errors as :class:`BigWigWriter`."""
    missing = [c for c in ("chrom", "start", "end", "value") if c not in intervals.columns]
    if missing:
        raise ValueError(f"intervals: missing column(s) {', '.join(missing)}; expected chrom, start, end, value")
    chroms = np.asarray(intervals["chrom"].astype(str))
    starts = _int_array(intervals["start"].to_numpy(), "start")
    ends = _int_array(intervals["end"].to_numpy(), "end")
    values = _value_array(intervals["value"].to_numpy(), "value")
    with BigWigWriter(path, chrom_sizes, keep_nan=keep_nan, compression_level=compression_level) as writer:
        # One call per stretch of rows on the same chromosome.
        cuts = np.flatnonzero(chroms[1:] != chroms[:-1]) + 1 if len(chroms) else np.array([], dtype=np.int64)
        bounds = [0, *cuts.tolist(), len(chroms)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a < b:
                writer.add_intervals(str(chroms[a]), starts[a:b], ends[a:b], values[a:b])


__all__ = ["BigWigWriter", "read_chrom_sizes", "write_bigwig"]
