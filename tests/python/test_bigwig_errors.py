"""Bad input gets a clear, typed error naming the file and what is wrong; never a crash."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

import bigwig_loader
from bbi_bytes import write_bigwig
from bigwig_loader import BigWigError
from conftest import real_file


def test_bigwig_error_is_a_value_error() -> None:
    assert issubclass(BigWigError, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.bw"
    with pytest.raises(FileNotFoundError, match="nope.bw"):
        bigwig_loader.BigWig(missing)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a regular file"):
        bigwig_loader.BigWig(tmp_path)


def test_hdf5_file_named_bw_is_not_a_bigwig() -> None:
    path = real_file("clodius/not_a_bigwig_hdf5.bw")
    with pytest.raises(BigWigError, match=r"not a bigWig file .*byte offset 0") as info:
        bigwig_loader.BigWig(path)
    assert str(path) in str(info.value)


def test_bigbed_is_named_as_such() -> None:
    path = real_file("bbi-js/unipLocCytopl.bb")
    with pytest.raises(BigWigError, match="bigBed") as info:
        bigwig_loader.BigWig(path)
    assert str(path) in str(info.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.bw"
    path.write_bytes(b"")
    with pytest.raises(BigWigError, match="not a bigWig"):
        bigwig_loader.BigWig(path)


def _structure_offsets(data: bytes) -> dict[str, int]:
    zoom_levels = struct.unpack_from("<H", data, 6)[0]
    chrom_tree, full_data, full_index = struct.unpack_from("<QQQ", data, 8)
    return {"zoom_levels": zoom_levels, "chrom_tree": chrom_tree, "data": full_data, "index": full_index}


@pytest.mark.parametrize("cut_inside", ["header", "zoom_headers", "chrom_tree", "data_start", "data_middle", "index"])
def test_truncated_file(tmp_path: Path, cut_inside: str) -> None:
    """A file cut inside any structure the full-resolution data needs is reported, at open or
    at the first read of a missing block."""
    source = real_file("bbi-js/ENCFF826FLP.bw").read_bytes()
    at = _structure_offsets(source)
    cut = {
        "header": 30,
        "zoom_headers": 64 + 12 * at["zoom_levels"],  # halfway through them
        "chrom_tree": at["chrom_tree"] + 40,
        "data_start": at["data"] + 100,
        "data_middle": (at["data"] + at["index"]) // 2,
        "index": at["index"] + 1000,
    }[cut_inside]
    path = tmp_path / "cut.bw"
    path.write_bytes(source[:cut])
    with pytest.raises(BigWigError, match="truncated|corrupt") as info:
        with bigwig_loader.BigWig(path) as bw:
            bw.values("chr22", 0, bw.chroms["chr22"])
    assert "byte offset" in str(info.value)


def test_file_cut_after_the_index_still_reads_full_resolution(tmp_path: Path) -> None:
    """Zoom data lies after the R-tree in ENCFF826FLP and is never read for values."""
    source = real_file("bbi-js/ENCFF826FLP.bw")
    data = source.read_bytes()
    at = _structure_offsets(data)
    zoom_data = min(struct.unpack_from("<Q", data, 64 + 24 * i + 8)[0] for i in range(at["zoom_levels"]))
    assert zoom_data > at["index"]
    path = tmp_path / "cut.bw"
    path.write_bytes(data[: zoom_data + 10])
    with bigwig_loader.BigWig(path) as cut, bigwig_loader.BigWig(source) as whole:
        np.testing.assert_array_equal(
            cut.values("chr22", 20_000_000, 20_100_000), whole.values("chr22", 20_000_000, 20_100_000)
        )


def test_truncated_header_names_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "cut.bw"
    path.write_bytes(real_file("bbi-js/volvox.bw").read_bytes()[:40])
    with pytest.raises(BigWigError, match=r"truncated BBI header .*byte offset 0|truncated.*byte offset"):
        bigwig_loader.BigWig(path)


def _first_data_block(path: Path) -> tuple[int, int]:
    """(offset, size) of the first data block, read from the R-tree by hand."""
    data = path.read_bytes()
    index_offset = struct.unpack_from("<Q", data, 24)[0]
    node = index_offset + 48
    is_leaf, _, count = struct.unpack_from("<BBH", data, node)
    item = node + 4
    while not is_leaf:  # descend along the first child
        child = struct.unpack_from("<Q", data, item + 16)[0]
        is_leaf, _, count = struct.unpack_from("<BBH", data, child)
        item = child + 4
    assert count > 0
    return struct.unpack_from("<QQ", data, item + 16)


def test_corrupt_compressed_block_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.bw"
    shutil.copy(real_file("bbi-js/volvox.bw"), path)
    offset, size = _first_data_block(path)
    data = bytearray(path.read_bytes())
    for i in range(offset + 2, offset + min(size, 40)):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))
    with bigwig_loader.BigWig(path) as bw:  # opening reads no block
        chrom, size_ = next(iter(bw.chroms.items()))
        with pytest.raises(BigWigError, match=rf"corrupt data block.*byte offset {offset}\)") as info:
            bw.values(chrom, 0, size_)
    assert str(path) in str(info.value)


def test_corrupt_section_in_uncompressed_block(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.bw"
    shutil.copy(real_file("bbi-js/uncompressed.bw"), path)
    offset, _ = _first_data_block(path)
    data = bytearray(path.read_bytes())
    data[offset + 20] = 42  # the first section's type byte
    path.write_bytes(bytes(data))
    with bigwig_loader.BigWig(path) as bw:
        chrom, size = next(iter(bw.chroms.items()))
        with pytest.raises(BigWigError, match="unknown data section type"):
            bw.intervals(chrom, 0, size)


def test_random_corruption_never_crashes(tmp_path: Path) -> None:
    """Flip random bytes all over a file: every outcome is data or a BigWigError."""
    source = real_file("deeptools/heatmapper_test.bw").read_bytes()
    rng = np.random.default_rng(11)
    path = tmp_path / "fuzz.bw"
    outcomes = {"ok": 0, "error": 0}
    for _ in range(300):
        data = bytearray(source)
        for pos in rng.integers(0, len(data), int(rng.integers(1, 8))):
            data[pos] = int(rng.integers(0, 256))
        path.write_bytes(bytes(data))
        try:
            with bigwig_loader.BigWig(path) as bw:
                for chrom, size in bw.chroms.items():
                    bw.values(chrom, 0, size)
                    bw.intervals(chrom)
            outcomes["ok"] += 1
        except BigWigError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0, outcomes


def test_chromosome_name_that_is_not_utf8_is_named_at_open(tmp_path: Path) -> None:
    """A name whose bytes are not UTF-8 (one flipped byte, as test_random_corruption_never_crashes
    makes on a small file) is a BigWigError naming the file and offset, not a UnicodeDecodeError
    from Python's str."""
    path = tmp_path / "name.bw"
    write_bigwig(path, [("chrA", 1_000)], [(0, [(0, 10, 1.0)])])
    data = bytearray(path.read_bytes())
    data[data.index(b"chrA") + 3] = 0x94
    path.write_bytes(bytes(data))
    for open_file in (bigwig_loader.BigWig, bigwig_loader.BigWigCollection):
        with pytest.raises(BigWigError, match=r"a chromosome name is not UTF-8 text.*byte offset \d+") as info:
            open_file(path)
        assert str(path) in str(info.value)


def test_unknown_chromosome_is_a_key_error_naming_it(generated_bigwig: Path) -> None:
    with bigwig_loader.BigWig(generated_bigwig) as bw:
        with pytest.raises(KeyError, match="chrNope"):
            bw.values("chrNope", 0, 10)
        with pytest.raises(KeyError, match="chrNope"):
            bw.intervals("chrNope")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [(-1, 10, "negative"), (0, 200_001, "past the end"), (50, 10, "after end")],
)
def test_bad_ranges_are_value_errors(generated_bigwig: Path, start: int, end: int, message: str) -> None:
    with bigwig_loader.BigWig(generated_bigwig) as bw:
        with pytest.raises(ValueError, match=message) as info:
            bw.values("chr1", start, end)
        assert not isinstance(info.value, BigWigError)
        with pytest.raises(ValueError, match=message):
            bw.intervals("chr1", start, end)


def test_closed_file_refuses_reads(generated_bigwig: Path) -> None:
    bw = bigwig_loader.BigWig(generated_bigwig)
    bw.close()
    with pytest.raises(ValueError, match="closed"):
        bw.values("chr1", 0, 10)
    assert "closed" in repr(bw)
