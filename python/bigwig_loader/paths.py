"""Finding bigWig files and matching scale keys to them (bigwig-loader 0.3's rules)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bigwig_loader import remote

# 0.3's defaults. ".bigwig" is found only when asked for (file_extensions=(".bigWig", ".bw",
# ".bigwig")): adding it by default would shift the track indices of an existing directory.
DEFAULT_EXTENSIONS = (".bigWig", ".bw")

PathLike = str | os.PathLike[str]


def find_bigwig_files(
    bigwig_path: PathLike | Sequence[PathLike],
    file_extensions: Iterable[str] = DEFAULT_EXTENSIONS,
    crawl: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Files named by `bigwig_path`: a file, a directory (searched recursively when `crawl`,
    else only its own entries), or a list of either; a URL (``s3://``, ``gs://``, ``az://``,
    ``http(s)://``) the same, a bucket prefix or an HTTP directory standing for a directory
    (remote.RemoteUrl, listed with `storage_options`). Sorted, each once. A path that does not
    exist is a FileNotFoundError; finding no file at all is a ValueError naming the path."""
    sources = [bigwig_path] if isinstance(bigwig_path, (str, os.PathLike)) else list(bigwig_path)
    extensions = tuple(file_extensions)
    found = {file for source in sources for file in files_under(source, extensions, crawl, storage_options)}
    if not found:
        raise ValueError(f"no bigWig files ({', '.join(extensions)}) found in {bigwig_path}")
    return sorted(found, key=str)


def files_under(
    source: PathLike, extensions: tuple[str, ...], crawl: bool, storage_options: Mapping[str, Any] | None = None
) -> list[Path]:
    """The one file finder: the files one path names, itself when it is not a directory, else its
    files ending in one of `extensions` (in its subdirectories too when `crawl`), sorted by path.
    FileNotFoundError when the path does not exist. A URL: remote.find_urls, the same rules."""
    if remote.is_url(source):
        return remote.find_urls(str(source), extensions, crawl, storage_options)  # type: ignore[return-value]
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if not path.is_dir():
        return [path]
    candidates = path.rglob("*") if crawl else path.iterdir()
    return sorted((p for p in candidates if p.is_file() and p.name.endswith(extensions)), key=str)


def _match_rank(path: Path, key: str) -> int:
    """How specifically `key` names `path`: 3 full path, 2 a trailing part of the path (with or
    without extension), 1 a parent directory's name, 0 no match."""
    if key == str(path):
        return 3
    key_path = Path(key)
    if key_path == path or (key_path.is_absolute() and key_path == path.resolve()):
        return 3
    parts = path.parts
    stem_parts = parts[:-1] + (path.stem,)
    key_parts = key_path.parts
    n = len(key_parts)
    if 0 < n <= len(parts) and (parts[-n:] == key_parts or stem_parts[-n:] == key_parts):
        return 2
    if n == 1 and key in parts[:-1]:
        return 1
    return 0


def match_scale_factors(paths: Sequence[Path], scale: Mapping[str, float] | None) -> list[float]:
    """One factor per path: that of the most specific matching key (full path, then trailing
    part, then the nearest parent directory), 1.0 where no key matches. Keys that match no
    file are reported with a warning, since they are usually typos."""
    if not scale:
        return [1.0] * len(paths)
    factors = []
    used: set[str] = set()
    for path in paths:
        best_rank, best_depth, best = 0, -1, 1.0
        for key, factor in scale.items():
            rank = _match_rank(path, str(key))
            if rank:
                used.add(str(key))
            # Among parent directories, the nearest wins.
            depth = len(path.parts) - path.parts[::-1].index(str(key)) if rank == 1 else 0
            if rank > best_rank or (rank == best_rank and rank == 1 and depth > best_depth):
                best_rank, best_depth, best = rank, depth, float(factor)
        factors.append(best)
    unused = [k for k in scale if str(k) not in used]
    if unused:
        warnings.warn(f"scale keys that match no bigWig file: {unused}", UserWarning, stacklevel=3)
    return factors
