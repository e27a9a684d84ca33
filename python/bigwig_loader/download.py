"""Downloading one file over HTTP(S): resumable, checksummed, with a progress bar.

The file is written to ``<destination>.part`` and renamed to its real name only once it is
complete and its checksum matches, so the real name never holds a partial or wrong file. An
interrupted download leaves the ``.part`` file; the next call asks the server for the rest
(an HTTP Range request) and appends it. A file already at the real name is checked, never
overwritten: a wrong one is an error that says so.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

_CHUNK = 1 << 20
_USER_AGENT = "bigwig-loader (example data)"


class DownloadError(OSError):
    """A file could not be downloaded (no network, an HTTP error, an interrupted transfer). The
    message says what to fetch and where to put it instead."""


class ChecksumError(DownloadError):
    """A downloaded (or already present) file does not have the checksum it should."""


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, md5: str | None) -> None:
    """ChecksumError unless `path`'s MD5 is `md5` (None: nothing to check)."""
    if md5 is None:
        return
    actual = md5_of(path)
    if actual != md5.lower():
        raise ChecksumError(f"{path}: MD5 {actual}, expected {md5}")


def fetch(url: str, destination: Path, md5: str | None, *, progress: bool | None = None, timeout: float = 60.0) -> Path:
    """`destination`, downloaded from `url` when it is not there yet, its MD5 checked.

    Args:
        md5: the file's MD5 (hex); None skips the check (for a file checked after unpacking).
        progress: show a tqdm bar on stderr (default: when stderr is a terminal).
        timeout: seconds to wait for the server before giving up.

    Raises DownloadError when the server cannot be reached or the transfer breaks off (the part
    already received is kept for the next call), ChecksumError when the result (or a file
    already at `destination`) has the wrong MD5: a wrong download is removed, a file that was
    already there is left as it is.
    """
    destination = Path(destination)
    if destination.exists():
        try:
            verify(destination, md5)
        except ChecksumError as e:
            raise ChecksumError(f"{e}: remove it, or replace it with the file from {url}") from None
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    _download(
        url, partial, destination, md5, progress=sys.stderr.isatty() if progress is None else progress, timeout=timeout
    )
    try:
        verify(partial, md5)
    except ChecksumError as e:
        partial.unlink()
        raise ChecksumError(f"downloaded {url}: {e}; removed it, run again to download it afresh") from None
    os.replace(partial, destination)
    return destination


def _download(url: str, partial: Path, destination: Path, md5: str | None, *, progress: bool, timeout: float) -> None:
    """Completes `partial` from `url`, resuming from its current size."""
    have = partial.stat().st_size if partial.exists() else 0
    headers = {"User-Agent": _USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:
            return  # nothing past what we have: the part is complete (the checksum will tell)
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}. {_by_hand(url, destination, md5)}") from None
    except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, refused connections
        reason = getattr(e, "reason", e)
        raise DownloadError(f"cannot download {url} ({reason}). {_by_hand(url, destination, md5)}") from None
    with response:
        if have and response.status == 206 and _range_start(response) == have:
            mode = "ab"
        else:  # the server sent the whole file (it ignores ranges, or the part was stale)
            have, mode = 0, "wb"
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        received = have
        with (
            open(partial, mode) as out,
            tqdm(
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=destination.name,
                disable=not progress,
                file=sys.stderr,
            ) as bar,
        ):
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as e:
                raise DownloadError(
                    f"downloading {url} broke off after {received:,} bytes ({e}); the part received is kept "
                    f"in {partial}: run again to resume"
                ) from None
        if total is not None and received < total:
            raise DownloadError(
                f"downloading {url} ended after {received:,} of {total:,} bytes; the part received is kept in "
                f"{partial}: run again to resume"
            )


def _range_start(response: http.client.HTTPResponse) -> int | None:
    """The first byte a 206 response holds (Content-Range: bytes FIRST-LAST/TOTAL)."""
    content_range = response.headers.get("Content-Range", "")
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _by_hand(url: str, destination: Path, md5: str | None) -> str:
    check = f" (MD5 {md5})" if md5 else ""
    return f"Without network access here, fetch {url}{check} elsewhere and put it at {destination}"
