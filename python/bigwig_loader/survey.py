"""What is in a bigWig file, and is it intact: the facts behind ``bigwig-loader info`` and
``bigwig-loader validate``.

Both read every data and zoom block (inflate and decode) in C++ with the GIL released
(``_core.survey_bigwig``), so several files are surveyed at once on Python threads. A URL is
surveyed from its local copy (remote.local_copy: every byte is read anyway, fetched once in
large concurrent pieces); reports name the URL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bigwig_loader import _core, remote
from bigwig_loader.bigwig import BigWig
from bigwig_loader.paths import PathLike, find_bigwig_files

SECTION_TYPES = ("bedGraph", "variableStep", "fixedStep")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (absolute byte offset, None when it has no single
    place) and what."""

    path: str
    offset: int | None
    message: str

    def __str__(self) -> str:
        where = f" at byte {self.offset}" if self.offset is not None else ""
        return f"{self.path}:{where}: {self.message}" if where else f"{self.path}: {self.message}"


def _spread(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": int(values.min()), "median": float(np.median(values)), "max": int(values.max())}


def _summary(total: dict[str, Any] | None, chromosome_bases: int) -> dict[str, Any] | None:
    """The header's total summary with its mean (of the covered bases) and coverage (bases
    covered over the chromosomes' total) worked out; None when the file has none (version 1).
    Both are as good as the header: some writers' summaries are wrong (coverage above 1)."""
    if total is None:
        return None
    covered = total["bases_covered"]
    return {
        **total,
        "mean": total["sum"] / covered if covered else None,
        "coverage": covered / chromosome_bases if chromosome_bases else None,
    }


def file_facts(path: PathLike, *, blocks: bool = False) -> dict[str, Any]:
    """Everything ``info`` reports about one bigWig, as plain JSON-able values: header fields,
    chromosomes and sizes, zoom levels, data blocks (count, stored and inflated bytes, items per
    block), sections and items by type, the header's total summary (with its mean and coverage),
    and the problems found while reading every block.
    ``blocks=True`` adds one entry per data block (offset, sizes, sections, items).

    Raises FileNotFoundError for a missing file and BigWigError when it is not a readable bigWig.
    """
    path = os.fspath(path)
    with BigWig(path) as bw:  # raises the typed errors for missing and non-bigWig files
        header = bw.header
        chroms = bw.chroms
    local = _local(path)
    survey = _core.survey_bigwig(local)
    columns = survey["blocks"]
    stored, inflated, items = columns["stored_bytes"], columns["inflated_bytes"], columns["items"]
    facts: dict[str, Any] = {
        "path": path,
        "file_bytes": os.path.getsize(local),
        "version": int(header["version"]),
        "compressed": bool(header["compressed"]),
        "uncompress_buf_size": int(header["uncompress_buf_size"]),
        "chromosomes": chroms,
        "total_summary": _summary(header["total_summary"], sum(chroms.values())),
        "zoom_levels": [
            {
                "reduction_level": int(z["reduction_level"]),
                "blocks": int(z["blocks"]),
                "records": int(z["records"]),
                "stored_bytes": int(z["stored_bytes"]),
                "inflated_bytes": int(z["inflated_bytes"]),
            }
            for z in survey["zooms"]
        ],
        "data": {
            "blocks": int(len(stored)),
            "stored_bytes": int(stored.sum()),
            "inflated_bytes": int(inflated.sum()),
            "items": int(items.sum()),
            "items_per_block": _spread(items),
            "stored_bytes_per_block": _spread(stored),
            "inflated_bytes_per_block": _spread(inflated),
        },
        "sections": {
            kind: {"sections": int(survey["sections_by_type"][kind]), "items": int(survey["items_by_type"][kind])}
            for kind in SECTION_TYPES
        },
        "problems": [{"offset": p["offset"], "message": p["message"]} for p in survey["problems"]],
    }
    if blocks:
        facts["blocks"] = [
            {
                "offset": int(o),
                "stored_bytes": int(s),
                "inflated_bytes": int(i),
                "sections": int(n),
                "items": int(k),
                "intact": bool(ok),
            }
            for o, s, i, n, k, ok in zip(
                columns["offset"], stored, inflated, columns["sections"], items, columns["intact"]
            )
        ]
    return facts


def expand_paths(sources: Sequence[PathLike]) -> list[Path]:
    """Files named on the command line: each file as given (whatever its name, so that a
    mistaken non-bigWig is reported, not skipped), each directory searched recursively for
    bigWig files. FileNotFoundError for a path that does not exist, ValueError for a directory
    without bigWig files."""
    found: list[Path] = []
    for source in sources:
        if remote.is_url(source):
            found.extend(remote.find_urls(str(source), (".bigWig", ".bw", ".bigwig"), True, None))
            continue
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        found.extend(find_bigwig_files(path) if path.is_dir() else [path])
    return list(dict.fromkeys(found))


def validate(
    paths: Iterable[PathLike],
    *,
    threads: int | None = None,
    on_file_done: Callable[[str, list[Problem]], None] | None = None,
) -> Iterator[tuple[str, list[Problem]]]:
    """Reads every block of every file (``threads`` files at once) and yields ``(path, problems)``
    per file in the order given; an intact file has no problems. ``on_file_done`` is called as
    each file finishes, in completion order (for a progress bar)."""
    paths = [os.fspath(p) for p in paths]

    def one(path: str) -> list[Problem]:
        survey = _core.survey_bigwig(_local(path))
        problems = [Problem(path, p["offset"], p["message"]) for p in survey["problems"]]
        if on_file_done is not None:
            on_file_done(path, problems)
        return problems

    with ThreadPoolExecutor(max_workers=threads or min(8, os.cpu_count() or 1)) as pool:
        yield from zip(paths, pool.map(one, paths))


def _local(path: str) -> str:
    """The local file a survey reads: the file itself, or a URL's local copy."""
    return str(remote.local_copy(path)) if remote.is_url(path) else path
