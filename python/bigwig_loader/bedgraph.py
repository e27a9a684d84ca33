"""bedGraph to bigWig (``bigwig-loader convert``): the job of UCSC's ``bedGraphToBigWig``.

The input is read in batches of lines; each batch is parsed by pandas' C parser, checked with
numpy (chromosome known, start < end <= chromosome size, sorted and not overlapping, each
chromosome in one stretch) and handed to :class:`bigwig_loader.BigWigWriter`. A batch that
does not parse or check cleanly is parsed again line by line, only to name the first bad
line: every error names the input file and the line number. ``#`` comments, blank lines and
``track``/``browser`` lines are skipped. A ``.gz`` input is read through gzip.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bigwig_loader.writer import BigWigWriter, ChromSizes, _chrom_pairs

BATCH_BYTES = 16 << 20  # about this many bytes of lines per batch
_INT64 = (-(2**63), 2**63 - 1)  # what a start or end must fit: numpy holds them as int64
# What reading a damaged .gz raises: cut short (EOFError), bytes after the last member that are
# not another one (BadGzipFile), corrupt compressed data (zlib.error, not an OSError).
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
_HEADER_LINE = re.compile(rb"(?:^|\n)[ \t]*(?:track|browser)\b")


class BedGraphError(ValueError):
    """A line of the bedGraph is malformed or out of order; the message names file and line."""

    def __init__(self, path: str, line: int, what: str) -> None:
        super().__init__(f"{path}, line {line}: {what}")
        self.path, self.line, self.what = path, line, what


@dataclass
class ConvertResult:
    """What a conversion read: ``intervals`` data lines (NaN ones included), ``lines`` lines in
    all (comments, blank and track lines included), ``chromosomes`` with data, and
    ``nan_skipped``, the intervals whose value is NaN and so were not written (0 with
    ``keep_nan``: then they are stored)."""

    intervals: int = 0
    lines: int = 0
    chromosomes: int = 0
    nan_skipped: int = 0


@dataclass
class _Batch:
    chrom: np.ndarray  # object array of str
    start: np.ndarray  # int64
    end: np.ndarray  # int64
    value: np.ndarray  # float32
    line: np.ndarray | None  # line numbers, when known (None: row i is line first_line + i)


def _is_skipped(fields: list[bytes]) -> bool:
    return not fields or fields[0].startswith(b"#") or fields[0] in (b"track", b"browser")


def _parse_fast(data: bytes) -> _Batch | None:
    """pandas' C parser on a batch without track/browser lines; None when anything is off."""
    if _HEADER_LINE.search(data):
        return None
    try:
        df = pd.read_csv(
            io.BytesIO(data),
            sep=r"\s+",
            header=None,
            comment="#",
            engine="c",
            dtype={0: str, 1: np.int64, 2: np.int64, 3: np.float64},
            na_filter=False,
        )
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
        return None  # a number past int64 among them: the line-by-line parse names its line
    if df.shape[1] != 4:
        return None
    return _Batch(
        df[0].to_numpy(dtype=object), df[1].to_numpy(), df[2].to_numpy(), df[3].to_numpy(dtype=np.float32), None
    )


def _parse_slow(lines: list[bytes], first_line: int, path: str) -> _Batch:
    """Line by line: the first malformed line raises BedGraphError naming it."""
    chrom, start, end, value, numbers = [], [], [], [], []
    for i, raw in enumerate(lines):
        fields = raw.split()
        if _is_skipped(fields):
            continue
        number = first_line + i
        if len(fields) != 4:
            raise BedGraphError(path, number, f"expected 4 fields (chrom start end value), found {len(fields)}")
        try:
            s, e = int(fields[1]), int(fields[2])
        except ValueError:
            raise BedGraphError(
                path,
                number,
                f"start and end must be whole numbers, got {fields[1].decode(errors='replace')!r} "
                f"and {fields[2].decode(errors='replace')!r}",
            ) from None
        if not (_INT64[0] <= s <= _INT64[1] and _INT64[0] <= e <= _INT64[1]):
            raise BedGraphError(path, number, f"start and end must fit in a 64-bit integer, got {s} and {e}")
        try:
            v = float(fields[3])
        except ValueError:
            raise BedGraphError(path, number, f"value {fields[3].decode(errors='replace')!r} is not a number") from None
        chrom.append(fields[0].decode(errors="replace"))
        start.append(s)
        end.append(e)
        value.append(v)
        numbers.append(number)
    return _Batch(
        np.array(chrom, dtype=object),
        np.array(start, dtype=np.int64),
        np.array(end, dtype=np.int64),
        np.array(value, dtype=np.float32),
        np.array(numbers, dtype=np.int64),
    )


class _OrderChecker:
    """Checks rows against the chromosome sizes and the order bigWig needs, across batches."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.current: str | None = None
        self.last_end = 0
        self.finished: set[str] = set()

    def first_problem(self, b: _Batch) -> tuple[int, str] | None:
        """(row, what) of the first bad row, or None; updates the state only when all are good."""
        n = len(b.start)
        if n == 0:
            return None
        chrom = b.chrom
        new_run = np.r_[True, chrom[1:] != chrom[:-1]]
        run_starts = np.flatnonzero(new_run)
        run_names = [str(c) for c in chrom[run_starts]]
        bad: list[tuple[int, str]] = []
        seen = set(self.finished)
        current = self.current
        for k, name in enumerate(run_names):
            row = int(run_starts[k])
            if name not in self.sizes:
                bad.append((row, f"chromosome {name} is not in the chromosome sizes"))
                break
            if name != current and name in seen:
                bad.append(
                    (
                        row,
                        f"chromosome {name} appears again after other chromosomes; "
                        "sort the bedGraph (sort -k1,1 -k2,2n)",
                    )
                )
                break
            if current is not None and name != current:
                seen.add(current)
            current = name
        # An unknown chromosome is reported as such (above), never as 'past its end'.
        size = np.array([self.sizes.get(c, 1 << 62) for c in run_names], dtype=np.int64)
        run_index = np.cumsum(new_run) - 1
        row_size = size[run_index]
        prev_end = np.r_[0, b.end[:-1]]
        prev_end[new_run] = 0
        if run_names and run_names[0] == self.current:
            prev_end[0] = self.last_end
        checks = [
            (b.start < 0, "start is negative"),
            (b.end <= b.start, "end is not after start"),
            (b.end > row_size, "end is past the chromosome's end"),
            (
                b.start < prev_end,
                "starts before the previous interval ends (unsorted or overlapping; sort with sort -k1,1 -k2,2n)",
            ),
        ]
        for mask, what in checks:
            hits = np.flatnonzero(mask)
            if hits.size:
                r = int(hits[0])
                detail = f"{what}: {chrom[r]} {b.start[r]} {b.end[r]}"
                if "chromosome's end" in what:
                    detail += f" (size {row_size[r]})"
                bad.append((r, detail))
        if bad:
            return min(bad)
        self.finished = seen
        self.current = current
        self.last_end = int(b.end[-1])
        return None


def convert_bedgraph(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    chrom_sizes: ChromSizes,
    *,
    keep_nan: bool = False,
    compression_level: int = 6,
    on_progress: Callable[[int], None] | None = None,
) -> ConvertResult:
    """Writes the bigWig of a bedGraph file. ``on_progress(n)`` is called with the input bytes
    read since the last call. Raises :class:`BedGraphError` (a ValueError) naming the line
    of the first bad line (of a damaged .gz: the line after the last one read whole); the
    output is then not created (an existing file stays)."""
    path = os.fspath(in_path)
    sizes = dict(_chrom_pairs(chrom_sizes))
    checker = _OrderChecker(sizes)
    result = ConvertResult()
    with (
        open(path, "rb") as raw,
        BigWigWriter(out_path, sizes, keep_nan=keep_nan, compression_level=compression_level) as writer,
    ):
        stream = gzip.GzipFile(fileobj=raw) if path.endswith(".gz") else raw
        first_line = 1
        position = 0
        while True:
            try:
                lines = stream.readlines(BATCH_BYTES)
            except _GZIP_ERRORS as error:
                raise _damaged_gzip(path, error) from None
            if not lines:
                break
            batch = _parse_fast(b"".join(lines))
            if batch is None or checker.first_problem(batch) is not None:
                batch = _parse_slow(lines, first_line, path)
                problem = checker.first_problem(batch)
                if problem is not None:
                    row, what = problem
                    raise BedGraphError(path, int(batch.line[row]), what)
            _write(writer, batch)
            result.intervals += len(batch.start)
            if not keep_nan:  # the writer leaves NaN out: say how many went
                result.nan_skipped += int(np.count_nonzero(np.isnan(batch.value)))
            first_line += len(lines)
            if on_progress is not None:
                now = raw.tell()
                on_progress(now - position)
                position = now
        result.lines = first_line - 1
        result.chromosomes = len(checker.finished) + (checker.current is not None)
    return result


def _damaged_gzip(path: str, error: Exception) -> BedGraphError:
    """The error for a .gz that cannot be read to its end, naming the last line read whole.
    The batch being read when the error came is lost with it, so the complete lines are
    counted in a second pass, which read1 makes exact: each call returns what one piece of
    compressed data gives, so nothing decompressed before the damage is dropped."""
    complete = 0
    with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
        try:
            while chunk := stream.read1(1 << 20):
                complete += chunk.count(b"\n")
        except _GZIP_ERRORS:
            pass
    read = f"the last line read whole is line {complete}" if complete else "no line could be read"
    return BedGraphError(path, complete + 1, f"the gzip data is cut short or damaged here ({error}); {read}")


def _write(writer: BigWigWriter, b: _Batch) -> None:
    if len(b.start) == 0:
        return
    cuts = np.flatnonzero(b.chrom[1:] != b.chrom[:-1]) + 1
    bounds = [0, *cuts.tolist(), len(b.start)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        writer.add_intervals(str(b.chrom[lo]), b.start[lo:hi], b.end[lo:hi], b.value[lo:hi])
