"""`BigWig`: one bigWig file, read by the C++ core."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from bigwig_loader import _arguments, _core, remote


class BigWig:
    """One bigWig file.

    Opening reads the header, the chromosome tree and the block index; no data block is
    inflated until a query needs it. Queries release the GIL, and one ``BigWig`` may be read
    from several threads at once.

    Coordinates are 0-based and half-open, as in the file and in pyBigWig.

    `path` may be a URL (``s3://``, ``gs://``, ``az://``, ``http(s)://``; needs the ``remote``
    extra), read with `storage_options` (fsspec's names: ``key``, ``secret``, ``endpoint_url``,
    ``anon``, ...; each cloud's environment variables otherwise): see bigwig_loader.remote.

    Errors: ``FileNotFoundError`` for a missing file; :class:`bigwig_loader.BigWigError` (a
    ``ValueError``) for anything that is not an intact bigWig, naming the byte offset where it
    applies; ``KeyError`` for an unknown chromosome; ``ValueError`` for a negative start, an
    end past the chromosome, or start > end.
    """

    def __init__(self, path: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> None:
        self._path = os.fspath(path)
        self._file: _core.BigWigFile | None = _open(self._path, storage_options)
        self._chroms = dict(self._file.chroms)

    @property
    def path(self) -> str:
        return self._path

    @property
    def chroms(self) -> dict[str, int]:
        """Chromosome name -> length, in file order."""
        return dict(self._chroms)

    @property
    def header(self) -> dict[str, Any]:
        """The BBI header: version, zoom_levels, uncompress_buf_size, field_count,
        total_summary (None in version 1; informational only, often wrong in real files), ..."""
        return self._open_file().header

    def values(self, chrom: str, start: int, end: int, default: float = math.nan) -> np.ndarray:
        """float32 array of ``end - start`` values, one per base of ``[start, end)``.

        Bases with no data read as ``default``; values stored as NaN stay NaN. With the default
        ``default=nan`` the result equals pyBigWig's ``values(chrom, start, end, numpy=True)``.
        """
        return self._open_file().values(
            _arguments.chromosome_name(chrom),
            _arguments.coordinate(start, "start"),
            _arguments.coordinate(end, "end"),
            float(default),
        )

    def intervals(
        self, chrom: str, start: int = 0, end: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored intervals overlapping ``[start, end)`` (the whole chromosome by default),
        unclipped and in file order, as ``(starts, ends, values)`` arrays (int64, int64,
        float32): the same intervals pyBigWig's ``intervals()`` returns."""
        f = self._open_file()
        chrom = _arguments.chromosome_name(chrom)
        if end is None:
            if chrom not in self._chroms:
                raise KeyError(f"chromosome {chrom!r} is not in {self._path}")
            end = self._chroms[chrom]
        return f.intervals(chrom, _arguments.coordinate(start, "start"), _arguments.coordinate(end, "end"))

    def close(self) -> None:
        """Releases the file. Reads still running in other threads finish first."""
        self._file = None

    def __enter__(self) -> BigWig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._file is None else f"{len(self._chroms)} chromosomes"
        return f"BigWig({self._path!r}, {state})"

    def _open_file(self) -> _core.BigWigFile:
        f = self._file
        if f is None:
            raise ValueError(f"I/O operation on closed BigWig {self._path}")
        return f


def _open(path: str, storage_options: dict[str, Any] | None) -> _core.BigWigFile:
    if not remote.is_url(path):
        return _core.BigWigFile(path)
    (source,) = remote.open_objects([path], storage_options)
    opened = _core.BigWigFile(source)
    source.release_kept()  # what the open read is parsed; later reads fetch what they need
    return opened
