"""BigWigCollection.get_batch against the numpy reference built on pyBigWig."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

import bigwig_loader
from batch_reference import reference_batch
from conftest import bigwig_id, real_bigwigs, real_file

WINDOW_SIZES = [1, 2, 11, 128]
DEFAULTS = [0.0, float("nan"), 5.6]


def as_numpy(tensor) -> np.ndarray:
    return np.from_dlpack(tensor)


def assert_matches_reference(actual: np.ndarray, expected: np.ndarray, window_size: int) -> None:
    assert actual.shape == expected.shape and actual.dtype == np.float32
    if window_size == 1:
        np.testing.assert_array_equal(actual, expected)  # exact: the arithmetic is exact
    else:
        # Sums are accumulated in double in both; only the order differs.
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))


def random_windows(rng, chrom_sizes: dict[str, int], n: int, length: int, overhang: int = 0):
    """Windows anywhere on the chromosomes, `overhang` bases past either end allowed."""
    names = list(chrom_sizes)
    chroms = [names[i] for i in rng.integers(0, len(names), n)]
    starts = np.array([rng.integers(-overhang, max(chrom_sizes[c] - length + overhang, -overhang + 1)) for c in chroms])
    return chroms, starts.astype(np.int64), starts.astype(np.int64) + length


@pytest.mark.parametrize("path", real_bigwigs(), ids=bigwig_id)
def test_real_files_match_reference(path: Path) -> None:
    collection = bigwig_loader.BigWigCollection(path, n_threads=2)
    rng = np.random.default_rng(len(path.name))
    with bigwig_loader.BigWig(path) as bw:
        # Centre half the windows on stored data: most of a sparse file is empty.
        data_chroms = [(c, bw.intervals(c)) for c in bw.chroms]
    for window_size in WINDOW_SIZES:
        length = window_size * int(rng.integers(1, 9))
        length = min(length, min(collection.chrom_sizes.values()))
        if length < window_size:
            continue
        chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 12, length, overhang=length // 2)
        for c, (s, _, _) in (dc for dc in data_chroms if len(dc[1][0])):
            for i in rng.integers(0, len(s), 4):
                chroms.append(c)
                starts = np.append(starts, int(s[i]) - length // 3)
                ends = np.append(ends, int(s[i]) - length // 3 + length)
        for default in DEFAULTS:
            actual = as_numpy(
                collection.get_batch(chroms, starts, ends, window_size=window_size, default_value=default)
            )
            expected = reference_batch([path], chroms, starts, ends, window_size=window_size, default_value=default)
            assert_matches_reference(actual, expected, window_size)


@pytest.fixture(scope="module")
def collection(collection_dir: Path) -> bigwig_loader.BigWigCollection:
    return bigwig_loader.BigWigCollection(collection_dir, n_threads=2)


def test_generated_collection_has_different_chromosome_sets(collection: bigwig_loader.BigWigCollection) -> None:
    assert collection.chromosomes == ["chr1", "chr2", "chrX", "contig_7"]
    assert collection.chrom_sizes == {"chr1": 60_000, "chr2": 50_000, "chrX": 40_000, "contig_7": 9_000}
    assert collection.get_chromosomes_present_in_all_files() == ["chr2"]
    assert [p.name for p in collection.bigwig_paths] == ["a.bw", "b.bw", "c.bw"]


@pytest.mark.parametrize("window_size", WINDOW_SIZES)
@pytest.mark.parametrize("default", DEFAULTS, ids=["0", "nan", "5.6"])
def test_generated_collection_matches_reference(
    collection: bigwig_loader.BigWigCollection, window_size: int, default: float
) -> None:
    rng = np.random.default_rng(window_size)
    length = window_size * 8
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 40, length, overhang=length)
    actual = as_numpy(collection.get_batch(chroms, starts, ends, window_size=window_size, default_value=default))
    expected = reference_batch(
        collection.bigwig_paths, chroms, starts, ends, window_size=window_size, default_value=default
    )
    assert_matches_reference(actual, expected, window_size)


@pytest.mark.parametrize(("length", "window_size"), [(20_000, 1), (20_002, 2), (45_000, 5)])
def test_long_windows_match_reference(
    collection: bigwig_loader.BigWigCollection, length: int, window_size: int
) -> None:
    """Windows of more cells than the CPU fill takes whole over several tracks (it fills them in
    stretches of cells), across chromosome ends and below 0, equal pyBigWig's values."""
    rng = np.random.default_rng(length)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 6, length, overhang=length // 2)
    for default in (0.0, np.nan):
        actual = as_numpy(collection.get_batch(chroms, starts, ends, window_size=window_size, default_value=default))
        expected = reference_batch(
            collection.bigwig_paths, chroms, starts, ends, window_size=window_size, default_value=default
        )
        assert_matches_reference(actual, expected, window_size)


def test_edge_windows(collection: bigwig_loader.BigWigCollection) -> None:
    """Across a chromosome end (chr1 is 30 kb in c.bw, 60 kb in a.bw), below 0, in a gap, on a
    chromosome some files lack, and entirely outside every file's chromosome."""
    chroms = ["chr1", "chr1", "chr1", "contig_7", "chrX", "chr2", "chr1"]
    starts = np.array([29_950, -60, 59_990, 8_950, 100, 49_960, 70_000])
    ends = starts + 100
    for default in DEFAULTS:
        actual = as_numpy(collection.get_batch(chroms, starts, ends, default_value=default))
        expected = reference_batch(collection.bigwig_paths, chroms, starts, ends, default_value=default)
        np.testing.assert_array_equal(actual, expected)
    actual = as_numpy(collection.get_batch(chroms, starts, ends, default_value=-1.0))
    assert np.all(actual[6] == -1.0), "a window wholly past every file's chromosome end is all default"
    assert np.all(actual[3, :, [0, 2]] == -1.0), "files without contig_7 read the default"
    assert np.all(actual[0, 50:, 2] == -1.0), "c.bw's chr1 ends at 30,000: no wrapping into the next chromosome"
    assert np.all(actual[1, :60, :] == -1.0), "negative positions read the default"


def test_bfloat16_is_float32_rounded_to_nearest_even(collection: bigwig_loader.BigWigCollection) -> None:
    rng = np.random.default_rng(9)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 32, 256, overhang=64)
    for window_size in (1, 11):
        for default in DEFAULTS:
            f32 = as_numpy(collection.get_batch(chroms, starts, ends, window_size=window_size, default_value=default))
            bits = collection.get_batch(
                chroms, starts, ends, window_size=window_size, default_value=default, dtype="bfloat16"
            )
            assert bits.dtype == np.uint16  # numpy has no bfloat16: the bit patterns, as 0.3 on a GPU
            bf16 = torch.from_numpy(bits).view(torch.bfloat16)
            expected = torch.from_numpy(f32.copy()).to(torch.bfloat16)  # torch rounds to nearest even
            nan = torch.isnan(expected)
            assert torch.equal(torch.isnan(bf16), nan)
            assert torch.equal(bf16[~nan].view(torch.int16), expected[~nan].view(torch.int16))


def test_scale_multiplies_stored_values_only(collection_dir: Path) -> None:
    scaled = bigwig_loader.BigWigCollection(collection_dir, scale={"a": 2.0, "sub": 0.5})
    np.testing.assert_array_equal(scaled.scaling_factors, [2.0, 1.0, 0.5])
    rng = np.random.default_rng(4)
    chroms, starts, ends = random_windows(rng, scaled.chrom_sizes, 30, 64, overhang=32)
    for window_size in (1, 2, 11):
        for default in DEFAULTS:
            actual = as_numpy(scaled.get_batch(chroms, starts, ends, window_size=window_size, default_value=default))
            expected = reference_batch(
                scaled.bigwig_paths,
                chroms,
                starts,
                ends,
                window_size=window_size,
                default_value=default,
                scales=[2.0, 1.0, 0.5],
            )
            assert_matches_reference(actual, expected, window_size)
            unscaled = as_numpy(
                scaled.get_batch(chroms, starts, ends, window_size=window_size, default_value=default, scale=False)
            )
            assert_matches_reference(
                unscaled,
                reference_batch(
                    scaled.bigwig_paths, chroms, starts, ends, window_size=window_size, default_value=default
                ),
                window_size,
            )


def test_track_subsets_and_reordering(collection: bigwig_loader.BigWigCollection) -> None:
    rng = np.random.default_rng(5)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 20, 100, overhang=10)
    full = as_numpy(collection.get_batch(chroms, starts, ends, default_value=np.nan))
    for tracks in ([2, 0], [1], [2, 1, 0], [0, 0]):
        part = as_numpy(collection.get_batch(chroms, starts, ends, default_value=np.nan, track_indices=tracks))
        np.testing.assert_array_equal(part, full[:, :, tracks])


def owning_tensor(array: np.ndarray):
    """The bigwig_loader Tensor a returned numpy array views (through the buffer protocol)."""
    base = array.base
    return base.obj if isinstance(base, memoryview) else base


def test_batch_is_c_contiguous_and_shared_without_copy(collection: bigwig_loader.BigWigCollection) -> None:
    values = collection.get_batch(["chr2"] * 3, [0, 100, 200], [100, 200, 300], window_size=2)
    assert isinstance(values, np.ndarray) and values.flags["C_CONTIGUOUS"] and values.flags["WRITEABLE"]
    tensor = owning_tensor(values)
    assert isinstance(tensor, bigwig_loader.Tensor)
    assert tensor.shape == (3, 50, 3) and tensor.dtype == "float32" and tensor.__dlpack_device__() == (1, 0)
    a = np.from_dlpack(tensor)
    t = torch.from_dlpack(tensor)
    assert a.flags["C_CONTIGUOUS"] and t.is_contiguous()
    assert a.ctypes.data == t.data_ptr() == values.ctypes.data, "every consumer sees the same memory: no copy"
    bits = collection.get_batch(["chr2"], [0], [10], dtype="bfloat16")
    with pytest.raises(TypeError, match="bfloat16"):
        np.asarray(owning_tensor(bits))  # the tensor itself refuses: numpy has no bfloat16


def test_returned_tensors_are_never_overwritten(collection: bigwig_loader.BigWigCollection) -> None:
    first = np.from_dlpack(collection.get_batch(["chr2"], [1_000], [1_500]))
    kept = first.copy()
    for start in range(0, 40_000, 4_000):
        collection.get_batch(["chr2"], [start], [start + 500])
    np.testing.assert_array_equal(first, kept)


def test_tensor_outlives_the_python_object(collection: bigwig_loader.BigWigCollection) -> None:
    tensor = collection.get_batch(["chr2"], [500], [600])
    array = np.from_dlpack(tensor)
    expected = array.copy()
    del tensor
    collection.get_batch(["chr2"], [0], [100])
    np.testing.assert_array_equal(array, expected)


def test_out_is_filled_in_place(collection: bigwig_loader.BigWigCollection) -> None:
    chroms, starts, ends = ["chr1", "chrX"], [100, 2_000], [228, 2_128]
    expected = np.from_dlpack(collection.get_batch(chroms, starts, ends, window_size=2, default_value=np.nan))
    out = np.full((2, 64, 3), 123.0, dtype=np.float32)
    assert collection.get_batch(chroms, starts, ends, window_size=2, default_value=np.nan, out=out) is out
    np.testing.assert_array_equal(out, expected)
    out_bf16 = torch.empty((2, 64, 3), dtype=torch.bfloat16)
    collection.get_batch(chroms, starts, ends, window_size=2, default_value=np.nan, dtype="bfloat16", out=out_bf16)
    np.testing.assert_array_equal(
        out_bf16.float().numpy(), torch.from_numpy(expected.copy()).to(torch.bfloat16).float().numpy()
    )


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (np.zeros((2, 64, 2), dtype=np.float32), "shape"),
        (np.zeros((2, 64, 3), dtype=np.float64), "dtype"),
        (np.zeros((2, 3, 64), dtype=np.float32).transpose(0, 2, 1), "C-contiguous"),
        ([[0.0]], "DLPack"),
    ],
    ids=["shape", "dtype", "strides", "list"],
)
def test_bad_out_arrays_are_refused(collection: bigwig_loader.BigWigCollection, out, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        collection.get_batch(["chr1", "chrX"], [100, 2_000], [228, 2_128], window_size=2, out=out)


def test_read_only_out_is_refused(collection: bigwig_loader.BigWigCollection) -> None:
    out = np.zeros((1, 10, 3), dtype=np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        collection.get_batch(["chr1"], [0], [10], out=out)


def test_concurrent_calls_equal_serial_calls(collection: bigwig_loader.BigWigCollection) -> None:
    rng = np.random.default_rng(8)
    batches = [random_windows(rng, collection.chrom_sizes, 64, 512, overhang=50) for _ in range(24)]
    serial = [np.from_dlpack(collection.get_batch(*b, window_size=4)) for b in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda b: np.from_dlpack(collection.get_batch(*b, window_size=4)), batches))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_many_tracks_of_one_file_and_large_batches() -> None:
    """A collection listing the same file many times reads each block once per file and gives
    every track the same values."""
    path = real_file("bbi-js/ENCFF826FLP.bw")
    collection = bigwig_loader.BigWigCollection([path], n_threads=2)
    rng = np.random.default_rng(1)
    starts = rng.integers(16_000_000, 51_000_000, 256)
    batch = np.from_dlpack(collection.get_batch(["chr22"] * 256, starts, starts + 1_000, default_value=np.nan))
    with bigwig_loader.BigWig(path) as bw:
        for w in range(0, 256, 17):
            np.testing.assert_array_equal(batch[w, :, 0], bw.values("chr22", int(starts[w]), int(starts[w]) + 1_000))


@pytest.mark.parametrize(
    "length, window_size, n_windows",
    [(1_001, 1, 40), (7, 1, 40), (1_001, 11, 40), (4, 2, 40), (5_001, 1, 3), (5_001, 11, 3)],
)
def test_tile_of_several_tracks_equals_each_track_alone(
    collection_dir: Path, tmp_path: Path, length: int, window_size: int, n_windows: int
) -> None:
    """The CPU fills a window's tracks column by column and transposes them into the batch (4 by
    4, the rest one by one): 7 tracks (copies of the generated files) over windows whose cell
    count is not a multiple of 4, a track's columns equal that track read alone, bit for bit, in
    float32 and bfloat16. Three windows of 5,001 bases are split into tasks of a few tracks each
    (tiles narrower than the batch's row)."""
    sources = bigwig_loader.BigWigCollection(collection_dir).bigwig_paths
    copies = []
    for i in range(7):
        copies.append(tmp_path / f"copy{i}.bw")
        shutil.copyfile(sources[i % len(sources)], copies[-1])
    together = bigwig_loader.BigWigCollection(copies, n_threads=2)
    rng = np.random.default_rng(length)
    chroms, starts, ends = random_windows(rng, together.chrom_sizes, n_windows, length, overhang=length // 2)
    for default, dtype in [(d, "float32") for d in DEFAULTS] + [(float("nan"), "bfloat16")]:
        got = np.asarray(
            together.get_batch(chroms, starts, ends, window_size=window_size, default_value=default, dtype=dtype)
        )
        for k, path in enumerate(copies):
            alone = bigwig_loader.BigWigCollection(path)
            names = set(alone.chrom_sizes)
            keep = [i for i, c in enumerate(chroms) if c in names]
            if not keep:
                continue
            want = np.asarray(
                alone.get_batch(
                    [chroms[i] for i in keep],
                    starts[keep],
                    ends[keep],
                    window_size=window_size,
                    default_value=default,
                    dtype=dtype,
                )
            )
            np.testing.assert_array_equal(got[keep, :, k], want[:, :, 0])
