"""A bigWig changed after it was opened is an error naming it, on the next batch or read that
touches it, cached or not. Before, a warm cache served old values from cached blocks and new
values from the others in one batch, without a word."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

import bigwig_loader
from bigwig_loader import Batch, BigWig, BigWigCollection, FileChangedError, StreamedDataloader

CHROMS = [("chr1", 100_000)]
STARTS = np.arange(0, 90_000, 3_000)


def write(path: Path, offset: float) -> Path:
    starts = np.arange(0, 100_000, 10)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(CHROMS, maxZooms=0)
    bw.addEntries(
        ["chr1"] * len(starts), starts.tolist(), ends=(starts + 10).tolist(), values=(starts + offset).tolist()
    )
    bw.close()
    return path


@pytest.fixture()
def tracks(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two tracks, and a different version of the first."""
    return write(tmp_path / "a.bw", 0.5), write(tmp_path / "b.bw", 1.5), write(tmp_path / "newer.bw", 7.25)


def batch(collection: BigWigCollection, starts=STARTS) -> np.ndarray:
    return np.from_dlpack(collection.get_batch(["chr1"] * len(starts), starts, starts + 1_000))


def rewrite_in_place(path: Path, source: Path) -> None:
    """Overwrites `path`'s bytes through the same inode, as `cat new > path` or a tool writing in place would."""
    with open(path, "r+b") as f:
        f.write(source.read_bytes())
        f.truncate()


@pytest.mark.parametrize("cache_bytes", [0, 64 << 20])
def test_a_track_rewritten_in_place_is_an_error_naming_it(tracks, cache_bytes: int) -> None:
    a, b, newer = tracks
    collection = BigWigCollection([a, b], cache_bytes=cache_bytes)
    before = batch(collection)
    np.testing.assert_array_equal(batch(collection), before)  # warm: served from the cache when on
    rewrite_in_place(a, newer)
    with pytest.raises(FileChangedError, match=f"{a}: the file changed size"):
        batch(collection)
    # Every later batch says so too, including one whose blocks are all cached.
    with pytest.raises(FileChangedError, match=str(a)):
        batch(collection, STARTS[:3])
    # A batch of the other track alone still reads: only the changed file is refused.
    np.testing.assert_array_equal(
        np.from_dlpack(collection.get_batch(["chr1"], [0], [1_000], track_indices=[1]))[0],
        before[0][:, [1]],
    )


def test_same_bytes_written_again_count_as_a_change(tracks) -> None:
    """The size alone cannot tell a rewrite of the same length: the modification time does."""
    a, b, _ = tracks
    collection = BigWigCollection([a, b], cache_bytes=64 << 20)
    batch(collection)
    time.sleep(0.05)  # past the file system's timestamp tick (a few ms), as any real rewrite is
    rewrite_in_place(a, a)
    with pytest.raises(FileChangedError, match=f"{a}: the file was modified"):
        batch(collection)


def test_a_track_replaced_resized_or_removed_is_an_error(tracks, tmp_path: Path) -> None:
    a, b, newer = tracks
    collection = BigWigCollection([a, b], cache_bytes=64 << 20)
    batch(collection)
    shutil.copy(a, tmp_path / "keep.bw")
    os.replace(newer, a)  # a new inode under the same name
    with pytest.raises(FileChangedError, match=f"{a}.*replaced"):
        batch(collection)

    collection = BigWigCollection([a, b], cache_bytes=64 << 20)
    batch(collection)
    with open(a, "ab") as f:
        f.write(b"\0" * 10)
    with pytest.raises(FileChangedError, match=f"{a}.*size"):
        batch(collection)

    collection = BigWigCollection([a, b])
    os.unlink(a)
    with pytest.raises(FileChangedError, match=f"{a}.*removed"):
        batch(collection)
    assert issubclass(FileChangedError, OSError)


def test_the_loader_raises_it_in_place_of_the_batch(tracks) -> None:
    a, b, newer = tracks
    collection = BigWigCollection([a, b], cache_bytes=64 << 20)
    queries = [Batch(["chr1"] * 4, STARTS[:4], STARTS[:4] + 1_000)] * 4
    with StreamedDataloader(iter(queries), collection, num_threads=1, queue_size=1) as loader:
        iterator = iter(loader)
        next(iterator)
        rewrite_in_place(a, newer)
        # One batch may have been loaded ahead before the change (queue_size 1); a later one
        # is the error, however cached its blocks are.
        with pytest.raises(FileChangedError, match=str(a)):
            for _ in iterator:
                pass


def test_single_file_reads_refuse_a_changed_file(tracks) -> None:
    a, _, newer = tracks
    with BigWig(a) as bw:
        np.testing.assert_array_equal(bw.values("chr1", 0, 20), np.repeat([0.5, 10.5], 10).astype(np.float32))
        rewrite_in_place(a, newer)
        with pytest.raises(FileChangedError, match=str(a)):
            bw.values("chr1", 0, 20)
        with pytest.raises(FileChangedError, match=str(a)):
            bw.intervals("chr1", 0, 20)
    with BigWig(a) as bw:  # opened again: the new contents
        np.testing.assert_array_equal(bw.values("chr1", 0, 10), np.full(10, 7.25, np.float32))


def test_exported_at_top_level() -> None:
    assert bigwig_loader.FileChangedError is bigwig_loader._core.FileChangedError


def test_a_symlink_pointed_at_another_file_is_an_error_within_the_recheck_interval(tracks, tmp_path: Path) -> None:
    """A path that resolves elsewhere while the opened file keeps its links shows only in the
    path: it is stat()ed at least once a second (RandomAccessFile::kPathRecheckSeconds), the open
    descriptor in between, which still reads the file first opened (never a mix)."""
    a, b, newer = tracks
    link = tmp_path / "current.bw"
    link.symlink_to(a)
    collection = BigWigCollection([link, b], cache_bytes=64 << 20)
    before = batch(collection)
    link.unlink()
    link.symlink_to(newer)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline - 0.2:  # until then, the file first opened, whole
        try:
            np.testing.assert_array_equal(batch(collection), before)
        except FileChangedError:  # an early recheck is allowed: never a mix
            break
        time.sleep(0.05)
    time.sleep(max(0.0, deadline - time.monotonic()) + 0.1)
    with pytest.raises(FileChangedError, match=f"{link}.*replaced"):
        batch(collection)


def test_a_link_made_or_removed_elsewhere_is_no_change(tracks, tmp_path: Path) -> None:
    a, b, _ = tracks
    collection = BigWigCollection([a, b], cache_bytes=0)
    before = batch(collection)
    os.link(a, tmp_path / "second-name.bw")
    np.testing.assert_array_equal(batch(collection), before)
    os.unlink(tmp_path / "second-name.bw")
    np.testing.assert_array_equal(batch(collection), before)
