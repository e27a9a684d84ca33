"""One canonical NaN in every batch: 0x7FC00000 (float32) and 0x7FC0 (bfloat16), whatever NaN a
file stores (sign, payload) and whatever arithmetic made it, so that the CPU and CUDA backends
agree bit for bit (test_gpu.py compares them on these files too)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from bigwig_loader import BigWigCollection
from conftest import real_bigwigs

CANONICAL_F32 = 0x7FC00000
CANONICAL_BF16 = 0x7FC0
# NaN as files may store it: canonical, negative, with payloads, all ones.
STORED_NANS = np.array([0x7FC00000, 0xFFC00000, 0x7FC12345, 0xFFFFFFFF, 0x7FD00001], dtype=np.uint32)


def write_nan_payloads(path: Path) -> Path:
    """chr1: runs of 3 bases holding each stored NaN in turn, each followed by 2 bases of 1.5
    and a 4-base gap, 40 times over; the NaN bits survive pyBigWig (float -> double -> float)."""
    starts, ends, values = [], [], []
    pos = 10
    for _ in range(40):
        for bits in STORED_NANS:
            starts += [pos, pos + 3]
            ends += [pos + 3, pos + 5]
            values += [float(np.array(bits, dtype=np.uint32).view(np.float32)), 1.5]
            pos += 9
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", 5_000)], maxZooms=0)
    bw.addEntries(["chr1"] * len(starts), starts, ends=ends, values=values)
    bw.close()
    return path


@pytest.fixture(scope="module")
def nan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_nan_payloads(tmp_path_factory.mktemp("nan") / "nan_payloads.bw")
    stored = np.asarray(pyBigWig.open(str(path)).values("chr1", 0, 2_000, numpy=True), dtype=np.float32)
    assert set(STORED_NANS.tolist()) <= set(stored.view(np.uint32).tolist()), "pyBigWig changed the stored NaN bits"
    return path


def nan_bits(values, dtype: str) -> np.ndarray:
    """The bit patterns of the NaN in a batch on the host (a numpy array, float32 or the uint16
    bits of bfloat16)."""
    a = np.asarray(values)
    if dtype == "float32":
        bits = a.view(np.uint32)
        return bits[(bits & 0x7FFFFFFF) > 0x7F800000]
    bits = a.view(np.uint16)
    return bits[(bits & 0x7FFF) > 0x7F80]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("window_size", [1, 4])
@pytest.mark.parametrize("default_value", [0.0, float(np.array(0xFFC0BEEF, dtype=np.uint32).view(np.float32))])
def test_stored_nan_payloads_come_out_canonical(nan_file: Path, dtype: str, window_size: int, default_value: float):
    collection = BigWigCollection(nan_file, scale={"nan_payloads": 2.0} if window_size == 4 else None)
    batch = collection.get_batch(
        ["chr1", "chr1"],
        [0, 400],
        [1_200, 1_600],
        window_size=window_size,
        default_value=default_value,
        dtype=dtype,
        device="cpu",
    )
    bits = nan_bits(batch, dtype)
    assert len(bits) > 100
    assert set(bits.tolist()) == {CANONICAL_F32 if dtype == "float32" else CANONICAL_BF16}


def stored_bits(path: Path, chrom: str, lo: int, hi: int) -> np.ndarray:
    bw = pyBigWig.open(str(path))
    return np.asarray(bw.values(chrom, lo, hi, numpy=True), dtype=np.float32).view(np.uint32)


def test_files_storing_the_canonical_nan_keep_their_bits(generated_bigwig: Path, collection_dir: Path):
    """Files that store NaN as 0x7FC00000 (the tests' generated files: pyBigWig writes numpy's
    NaN so) give exactly the stored bits, NaN included, as before canonicalization; the real
    files (which store no NaN) give pyBigWig's bits everywhere, uncovered bases NaN."""
    checked_nan = 0
    for path in [generated_bigwig, *sorted(collection_dir.rglob("*.bw"))]:
        bw = pyBigWig.open(str(path))
        collection = BigWigCollection(path)
        for chrom, size in bw.chroms().items():
            nan_at = [(s, e) for s, e, v in (bw.intervals(chrom) or []) if v != v]
            for start, end in nan_at[:5]:
                lo, hi = max(0, start - 40), min(size, end + 40)
                stored = stored_bits(path, chrom, lo, hi)
                assert np.all(stored[(stored & 0x7FFFFFFF) > 0x7F800000] == CANONICAL_F32)
                got = collection.get_batch([chrom], [lo], [hi], default_value=np.nan, device="cpu")
                np.testing.assert_array_equal(got.reshape(-1).view(np.uint32), stored, err_msg=f"{path} {chrom}:{lo}")
                checked_nan += 1
    assert checked_nan >= 10
    for path in real_bigwigs():
        collection = BigWigCollection(path)
        chrom = collection.chromosomes[0]
        hi = min(collection.chrom_sizes[chrom], 5_000)
        got = collection.get_batch([chrom], [0], [hi], default_value=np.nan, device="cpu")
        np.testing.assert_array_equal(
            got.reshape(-1).view(np.uint32), stored_bits(path, chrom, 0, hi), err_msg=str(path)
        )


# 4 tracks x 1,200: every window's slice starts 16-byte aligned; 3 x 1,201 (14,412 bytes a
# window): most start off it, so the streaming store's scalar head and tail run too.
@pytest.mark.parametrize("tracks, length", [(4, 1_200), (3, 1_201)])
def test_a_batch_large_enough_for_streaming_stores_equals_small_ones(nan_file: Path, tracks: int, length: int):
    """From 4 MiB the CPU fill stores float32 tiles with streaming stores (another store path):
    the same windows read in one large batch and one at a time (cached stores, one thread) give
    the same bits, NaN canonical."""
    collection = BigWigCollection([nan_file] * tracks, cache_bytes=0)
    starts = np.arange(0, 3_600, 3)[:1_200]
    big = np.asarray(
        collection.get_batch(["chr1"] * len(starts), starts, starts + length, default_value=np.nan, device="cpu")
    )
    assert big.nbytes >= 4 << 20
    bits = nan_bits(big, "float32")
    assert len(bits) > 1_000 and set(bits.tolist()) == {CANONICAL_F32}
    for i in (0, 1, 7, 600, 1_199):
        one = np.asarray(
            collection.get_batch(["chr1"], starts[i : i + 1], starts[i : i + 1] + length, default_value=np.nan)
        )
        np.testing.assert_array_equal(big[i].view(np.uint32), one[0].view(np.uint32))
