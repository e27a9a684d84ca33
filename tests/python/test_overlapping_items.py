"""A bigWig whose bedGraph items overlap (corrupt: pyBigWig and every valid writer refuse to
write one) is refused alike by every path: BigWig.values, get_batch with single bases and with
window averages, and `bigwig-loader validate`, which names the block's byte offset. pyBigWig
reads such a file letting the later item win per base; averages over it would have no stored
meaning, so bigwig-loader raises BigWigError rather than answer (before: averages near 8.6e8
from a wrapped count while single bases read the stored values)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from bigwig_loader.survey import file_facts
from bigwig_loader import BigWig, BigWigCollection, BigWigError
from bigwig_loader.cli import main as cli_main
from bbi_bytes import write_bigwig

CHROMS = [("chr1", 1000), ("chr2", 500)]


@pytest.fixture()
def overlapping(tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "overlapping.bw"
    offsets = write_bigwig(path, CHROMS, [(0, [(0, 100, 1.0), (50, 60, 5.0)]), (1, [(200, 300, 2.0)])])
    return path, offsets


def test_the_writer_makes_files_pybigwig_and_bigwig_loader_read_alike(tmp_path: Path) -> None:
    path = tmp_path / "valid.bw"
    write_bigwig(path, CHROMS, [(0, [(0, 100, 1.0), (100, 110, 5.0)]), (1, [(20, 30, 2.0)])])
    reference = pyBigWig.open(str(path))
    for chrom, size in CHROMS:
        expected = np.asarray(reference.values(chrom, 0, size), dtype=np.float32)
        np.testing.assert_array_equal(BigWig(path).values(chrom, 0, size), expected)
    batch = np.from_dlpack(BigWigCollection(path).get_batch(["chr1"], [96], [112], window_size=8, device="cpu"))
    assert batch[0, :, 0].tolist() == [(4 * 1.0 + 4 * 5.0) / 8, (6 * 5.0) / 8]


def test_pybigwig_lets_the_later_item_win(overlapping) -> None:
    path, _ = overlapping
    assert pyBigWig.open(str(path)).values("chr1", 48, 62) == [1.0, 1.0] + [5.0] * 10 + [1.0, 1.0]


def test_single_bases_and_window_averages_both_refuse_the_file(overlapping) -> None:
    path, offsets = overlapping
    with pytest.raises(BigWigError, match=rf"overlap.*byte offset {offsets[0]}"):
        BigWig(path).values("chr1", 0, 100)
    collection = BigWigCollection(path)
    for window_size in (1, 8):
        with pytest.raises(BigWigError, match=rf"overlap.*byte offset {offsets[0]}"):
            collection.get_batch(["chr1"], [0], [128], window_size=window_size, device="cpu")
    # The intact block of the other chromosome still reads.
    np.testing.assert_array_equal(BigWig(path).values("chr2", 199, 201), [np.nan, 2.0])


def test_validate_reports_the_overlap_with_its_byte_offset(overlapping) -> None:
    path, offsets = overlapping
    out = io.StringIO()
    assert cli_main(["validate", str(path)], out=out) == 1
    text = out.getvalue()
    assert f"{path}: at byte {offsets[0]}: corrupt data block: data items overlap" in text, text
    # The intact block is not reported (looked for as a report names it: the bare number can be
    # in the temporary path, pytest-161/..., as it once was).
    assert f"at byte {offsets[1]}:" not in text
    facts = file_facts(path)
    assert [p["offset"] for p in facts["problems"]] == [offsets[0]]


@pytest.fixture()
def overlapping_across_blocks(tmp_path: Path) -> tuple[Path, list[int]]:
    """Block 0: [0, 10) = 1; block 1: [5, 15) = 2. pyBigWig reads [0, 8) as 1 1 1 1 1 2 2 2
    (mean 1.375); summing both items' bases (before) averaged it as 1.75 with a clamped count."""
    path = tmp_path / "overlapping_across_blocks.bw"
    offsets = write_bigwig(path, CHROMS, [(0, [(0, 10, 1.0)]), (0, [(5, 15, 2.0)]), (1, [(0, 10, 3.0)])])
    return path, offsets


def test_items_overlapping_across_blocks_are_refused_by_every_path(overlapping_across_blocks) -> None:
    path, offsets = overlapping_across_blocks
    assert pyBigWig.open(str(path)).values("chr1", 0, 8) == [1.0] * 5 + [2.0] * 3
    both = rf"{offsets[1]}.*{offsets[0]}.*overlap.*byte offset {offsets[1]}"
    with pytest.raises(BigWigError, match=both):
        BigWig(path).values("chr1", 0, 100)
    with pytest.raises(BigWigError, match=both):
        BigWig(path).intervals("chr1", 0, 100)
    for cache_bytes in (0, 1 << 20):
        collection = BigWigCollection(path, cache_bytes=cache_bytes)
        for _ in range(2):  # the second round is served by the cache when it is on
            for window_size in (1, 8):
                with pytest.raises(BigWigError, match=both):
                    collection.get_batch(["chr1"], [0], [128], window_size=window_size, device="cpu")
        # Windows that reach only one of the two items, and the other chromosome, still read.
        batch = np.from_dlpack(collection.get_batch(["chr1", "chr2"], [10, 0], [18, 8], window_size=4, device="cpu"))
        assert batch[:, :, 0].tolist() == [[2.0, 0.5], [3.0, 3.0]]  # default 0 for [15, 18)
    np.testing.assert_array_equal(BigWig(path).values("chr1", 10, 16), [2.0] * 5 + [np.nan])


def test_validate_reports_the_overlap_across_blocks(overlapping_across_blocks) -> None:
    path, offsets = overlapping_across_blocks
    out = io.StringIO()
    assert cli_main(["validate", str(path)], out=out) == 1
    assert f"at byte {offsets[1]}" in out.getvalue(), out.getvalue()


def test_empty_items_read_alike_with_the_cache_on_and_off(tmp_path: Path) -> None:
    """Items with start == end store no base; a decode keeps them (in order), and a cache entry
    made from that decode is searched for each window's stretch as the cold batch's runs are:
    every window reads the same with the cache on (read twice: cold, then from the entry) and
    off, and as pyBigWig reads the file."""
    path = tmp_path / "empty_items.bw"
    items = [(0, 10, 1.0), (10, 10, 9.0), (20, 30, 2.0), (30, 30, 9.0), (30, 30, 8.0), (40, 60, 3.0), (60, 60, 9.0)]
    write_bigwig(path, CHROMS, [(0, items), (0, [(100, 100, 9.0), (100, 120, 4.0)]), (1, [(0, 0, 9.0), (0, 5, 5.0)])])
    chroms = ["chr1"] * 6 + ["chr2"]
    starts = np.array([0, 5, 25, 30, 55, 95, 0])
    ends = starts + 16
    reference = pyBigWig.open(str(path))
    want = np.stack(
        [np.asarray(reference.values(c, int(s), int(e)), dtype=np.float32) for c, s, e in zip(chroms, starts, ends)]
    )
    off = BigWigCollection(path, cache_bytes=0)
    on = BigWigCollection(path)
    for _ in range(2):
        for collection in (off, on):
            got = np.from_dlpack(collection.get_batch(chroms, starts, ends, default_value=np.nan, device="cpu"))
            np.testing.assert_array_equal(got[:, :, 0], want)
    assert on.cache_info().hits > 0  # the second read came from the entries
