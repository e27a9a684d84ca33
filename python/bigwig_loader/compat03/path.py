"""bigwig-loader 0.3's ``bigwig_loader.path``: 0.3's helpers for finding bigWig files (on the
library's one file finder, ``bigwig_loader.paths.files_under``, in 0.3's order: each path's
files in turn, none dropped) and for mapping a path to the value of its best-matching key.
``BigWigCollection`` finds its files and matches its ``scale`` keys with ``bigwig_loader.paths``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bigwig_loader.paths import DEFAULT_EXTENSIONS, files_under

__all__ = ["interpret_path", "map_path_to_value", "match_key_to_path", "subpaths"]


def interpret_path(
    bigwig_path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    file_extensions: Iterable[str] = DEFAULT_EXTENSIONS,
    crawl: bool = True,
) -> list[Path]:
    """The bigWig files `bigwig_path` names: a file (as is), a directory (its files ending in
    one of `file_extensions`, in subdirectories too when `crawl`, sorted), or an iterable of
    either (concatenated in order). FileNotFoundError for a path that does not exist,
    ValueError for something that is neither a path nor an iterable of paths. An empty
    directory gives an empty list, as in 0.3 (BigWigCollection refuses an empty result)."""
    extensions = tuple(file_extensions)
    if isinstance(bigwig_path, (str, os.PathLike)):
        return files_under(bigwig_path, extensions, crawl)
    if isinstance(bigwig_path, Iterable):
        return [found for element in bigwig_path for found in interpret_path(element, extensions, crawl)]
    raise ValueError(f"Can not interpret {bigwig_path!r} as a path or a collection of paths.")


def subpaths(path: str | os.PathLike[str], depth: int | None = None) -> Iterator[Path]:
    """The keys that may name `path`, most specific first: every trailing part of the path, each
    followed by its extension-less form (``liver/ENCFF1234.bigWig``, ``liver/ENCFF1234``, ...),
    longest first; then the same for the parent directory, and so on up (never the root alone).
    `depth` keeps only the last `depth` parts. For ``/data/liver/ENCFF1234.bigWig`` with
    ``depth=3``: data/liver/ENCFF1234.bigWig, data/liver/ENCFF1234, liver/ENCFF1234.bigWig,
    liver/ENCFF1234, ENCFF1234.bigWig, ENCFF1234, data/liver, liver."""
    path = Path(path)
    parts = path.parts
    stemmed = parts[:-1] + (path.stem,)
    if depth is not None:
        parts, stemmed = parts[-depth:], stemmed[-depth:]
    for level in range(len(parts) - 1):
        # `level` directories up from the file; only the file itself has an extension to drop.
        kept = len(parts) - level
        for first in range(kept):
            yield Path(*parts[first:kept])
            if level == 0 and stemmed != parts:
                yield Path(*stemmed[first:kept])


def match_key_to_path(path: str | os.PathLike[str], keys: Iterable[Any]) -> Any:
    """The key of `keys` (strings or paths) that names `path` most specifically, in the order of
    :func:`subpaths`; None when none does."""
    keys = list(keys)
    if not keys:
        return None
    as_text = {str(k): k for k in keys}
    for candidate in subpaths(path):
        if str(candidate) in as_text:
            return as_text[str(candidate)]
    return None


def map_path_to_value(path: str | os.PathLike[str], value_dict: Mapping[Any, Any], default: Any = None) -> Any:
    """``value_dict`` of the key that best names `path` (see :func:`match_key_to_path`), or
    `default` when no key does."""
    key = match_key_to_path(path, value_dict.keys())
    return default if key is None else value_dict[key]
