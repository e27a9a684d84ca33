"""Code written for bigwig-loader 0.3 runs unchanged: each point checked against what 0.3 does
(its behaviour as read from its source; REFERENCE.md lists the defects deliberately not kept).
The GPU side of these points is in test_gpu.py."""

from __future__ import annotations

import gc
import inspect
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import torch

import bigwig_loader
from bigwig_loader import Batch, BigWigCollection, BigWigDataset, StreamedDataloader
from conftest import real_file

PHIX = "deeptools/phiX.fasta"
PHIX_TRACK = "deeptools/bamCoverage_result4.bw"
PHIX_REGIONS = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})
ENCODE = "bbi-js/ENCFF826FLP.bw"


def phix_dataset(cls=BigWigDataset, **kwargs):
    options = dict(
        sequence_length=200,
        center_bin_to_predict=100,
        batch_size=8,
        batches_per_epoch=3,
        seed=3,
        n_threads=2,
        device="cpu",
    )
    options.update(kwargs)
    return cls(PHIX_REGIONS, real_file(PHIX_TRACK), real_file(PHIX), **options)


def bfloat16_of(values: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns, rounded to nearest even, as uint16 (torch does the rounding)."""
    return (
        torch.from_numpy(np.ascontiguousarray(values, np.float32))
        .to(torch.bfloat16)
        .view(torch.int16)
        .numpy()
        .view(np.uint16)
    )


def float32_of(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) -> float32, with numpy alone: a numpy consumer's way."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


@pytest.fixture(scope="module")
def encode() -> BigWigCollection:
    return BigWigCollection(real_file(ENCODE), n_threads=2)


def windows(n: int = 16, length: int = 1_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    starts = rng.integers(16_000_000, 51_000_000, n)
    return ["chr22"] * n, starts, starts + length


# --- dtype applies to the values only ----------------------------------------------------


def test_bfloat16_dtype_leaves_sequences_float32() -> None:
    plain = list(phix_dataset(return_batch_objects=True))
    half = list(phix_dataset(return_batch_objects=True, dtype="bfloat16"))
    for p, h in zip(plain, half, strict=True):
        assert h.sequences.dtype == np.float32, "0.3: dtype is the values' only; sequences stay float32"
        np.testing.assert_array_equal(h.sequences, p.sequences)
        assert h.values.dtype == np.uint16
        np.testing.assert_array_equal(h.values, bfloat16_of(p.values))


def test_sequence_dtype_bfloat16_is_separate() -> None:
    plain = list(phix_dataset(return_batch_objects=True))
    half = list(phix_dataset(return_batch_objects=True, sequence_dtype="bfloat16"))
    for p, h in zip(plain, half, strict=True):
        assert h.values.dtype == np.float32 and h.sequences.dtype == np.uint16
        np.testing.assert_array_equal(h.sequences, bfloat16_of(p.sequences))
    with pytest.raises(ValueError, match="sequence_dtype"):
        phix_dataset(sequence_dtype="float16")


def test_pytorch_dataset_bfloat16_values_float32_sequences() -> None:
    items = list(phix_dataset(bigwig_loader.PytorchBigWigDataset, dtype="bfloat16"))
    reference = list(phix_dataset(bigwig_loader.PytorchBigWigDataset))
    for (s16, v16), (s32, v32) in zip(items, reference, strict=True):
        assert s16.dtype == torch.float32 and v16.dtype == torch.bfloat16
        assert torch.equal(s16, s32) and torch.equal(v16.view(torch.int16), v32.to(torch.bfloat16).view(torch.int16))
    both = next(iter(phix_dataset(bigwig_loader.PytorchBigWigDataset, dtype="bfloat16", sequence_dtype="bfloat16")))
    assert both[0].dtype == torch.bfloat16 and torch.equal(both[0], reference[0][0].to(torch.bfloat16))


# --- each iteration is a new epoch ------------------------------------------------------------


def starts_of(dataset) -> list[np.ndarray]:
    return [np.asarray(b.starts).copy() for b in dataset]


def test_iterating_again_draws_new_windows_and_set_epoch_pins_one() -> None:
    ds = phix_dataset(return_batch_objects=True)
    epoch0, epoch1, epoch2 = starts_of(ds), starts_of(ds), starts_of(ds)
    assert not any(np.array_equal(a, b) for a, b in zip(epoch0, epoch1)), "0.3's sampler carries on"
    assert not any(np.array_equal(a, b) for a, b in zip(epoch1, epoch2))
    # set_epoch(n) pins epoch n exactly, whatever ran before (DDP), and the next one follows it.
    other = phix_dataset(return_batch_objects=True)
    other.set_epoch(1)
    assert all(np.array_equal(a, b) for a, b in zip(starts_of(other), epoch1, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(starts_of(other), epoch2, strict=True))
    ds.set_epoch(0)
    assert all(np.array_equal(a, b) for a, b in zip(starts_of(ds), epoch0, strict=True))


def test_the_epoch_is_taken_when_iteration_starts() -> None:
    ds = phix_dataset(return_batch_objects=True)
    ds.set_epoch(5)
    it = iter(ds)
    ds.set_epoch(9)  # too late for `it`
    got = [np.asarray(b.starts).copy() for b in it]
    ds.set_epoch(5)
    assert all(np.array_equal(a, b) for a, b in zip(got, starts_of(ds), strict=True))


def test_pytorch_dataset_draws_new_windows_each_epoch_through_a_dataloader() -> None:
    ds = phix_dataset(bigwig_loader.PytorchBigWigDataset)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=0)
    first = [v.clone() for _, v in loader]
    second = [v.clone() for _, v in loader]
    assert len(first) == len(second) == 3
    assert not all(torch.equal(a, b) for a, b in zip(first, second))


# --- track names -------------------------------------------------------------------------


def test_track_names_are_every_tracks_path(collection_dir: Path, tmp_path: Path) -> None:
    first, second = itertools.islice(iter(phix_dataset(return_batch_objects=True)), 2)
    assert first.track_names == [real_file(PHIX_TRACK)], "0.3: bigwig_paths when tracks are not sub-sampled"
    first.track_names.append("changed by a consumer")  # each batch has its own list
    assert second.track_names == [real_file(PHIX_TRACK)]
    fasta = tmp_path / "g.fa"
    rng = np.random.default_rng(0)
    fasta.write_text(">chr2\n" + "".join(rng.choice(list("ACGT"), 50_000)) + "\n")
    regions = pd.DataFrame({"chrom": ["chr2"], "start": [1_000], "end": [49_000]})
    ds = BigWigDataset(
        regions,
        collection_dir,
        fasta,
        sequence_length=128,
        batch_size=4,
        batches_per_epoch=2,
        sub_sample_tracks=2,
        seed=1,
        n_threads=1,
        device="cpu",
    )
    for _, _, tracks, names in ds:
        assert names == [ds.collection.bigwig_paths[i] for i in tracks]


# --- get_batch: 0.3's signature, an array back ----------------------------------------------


def test_get_batch_signature_is_0_3s_then_the_new_keywords() -> None:
    params = list(inspect.signature(BigWigCollection.get_batch).parameters.values())[1:]
    assert [p.name for p in params[:6]] == ["chromosomes", "start", "end", "window_size", "default_value", "out"]
    assert [p.default for p in params[3:6]] == [1, 0.0, None]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[6:])
    assert {p.name for p in params[6:]} == {"dtype", "track_indices", "scale", "device"}


def test_get_batch_positional_and_keyword_calls_as_in_0_3(encode) -> None:
    chroms, starts, ends = windows(8, 1_000)
    by_keyword = encode.get_batch(
        chromosomes=chroms, start=starts, end=ends, window_size=10, default_value=np.nan, device="cpu"
    )
    by_position = encode.get_batch(chroms, starts, ends, 10, np.nan, device="cpu")
    np.testing.assert_array_equal(by_keyword, by_position)
    out = np.full((8, 100, 1), -1.0, np.float32)
    assert encode.get_batch(chroms, starts, ends, 10, np.nan, out, device="cpu") is out
    np.testing.assert_array_equal(out, by_position)
    with pytest.raises(TypeError):
        encode.get_batch(chroms, starts, ends, 10, np.nan, None, "bfloat16", device="cpu")  # new arguments are keywords


def test_get_batch_returns_a_numpy_array_users_slice_and_compute_on(encode) -> None:
    chroms, starts, ends = windows(16, 1_000)
    values = encode.get_batch(chroms, starts, ends, device="cpu")
    assert isinstance(values, np.ndarray) and values.dtype == np.float32 and values.shape == (16, 1_000, 1)
    assert values.flags.c_contiguous and values.flags.writeable
    # What 0.3 users do with the CuPy array: slice, reshape, arithmetic.
    head = values[:, :100, :]
    assert head.shape == (16, 100, 1)
    np.testing.assert_array_equal(values.reshape(16, 1_000).mean(axis=1), values[..., 0].mean(axis=1))
    np.testing.assert_array_equal((values * 2 + 1)[:, :100], head * 2 + 1)
    # Still DLPack: torch takes it without a copy.
    assert torch.from_dlpack(values).data_ptr() == values.ctypes.data


def test_get_batch_array_is_zero_copy_and_keeps_its_memory_alive(encode) -> None:
    chroms, starts, ends = windows(16, 2_000, seed=1)
    want = encode.get_batch(chroms, starts, ends, device="cpu").copy()
    values = encode.get_batch(chroms, starts, ends, device="cpu")
    # The array views the loader's tensor (no copy): its base chain ends at a bigwig_loader Tensor.
    base = values
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    if isinstance(base, memoryview):  # numpy took it through the buffer protocol
        base = base.obj
    assert isinstance(base, bigwig_loader.Tensor)
    view = values[3:5]
    del values, base
    gc.collect()
    for _ in range(5):  # new batches must not reuse the memory the view still holds
        encode.get_batch(*windows(16, 2_000, seed=2), device="cpu")
    np.testing.assert_array_equal(view, want[3:5])


def test_bfloat16_is_a_uint16_view_for_numpy_and_torch_consumers(encode) -> None:
    chroms, starts, ends = windows(8, 700, seed=3)
    full = encode.get_batch(chroms, starts, ends, window_size=7, device="cpu")
    half = encode.get_batch(chroms, starts, ends, window_size=7, dtype="bfloat16", device="cpu")
    assert isinstance(half, np.ndarray) and half.dtype == np.uint16 and half.shape == full.shape
    np.testing.assert_array_equal(half, bfloat16_of(full))  # float32 rounded to nearest even
    # numpy consumer: widen the bit patterns to float32.
    np.testing.assert_array_equal(float32_of(half), torch.from_numpy(full).to(torch.bfloat16).float().numpy())
    # torch consumers, as 0.3's README says: as_tensor(...).view(torch.bfloat16), or from_dlpack.
    for tensor in (
        torch.as_tensor(half).view(torch.bfloat16),
        torch.from_dlpack(half).view(torch.bfloat16),
        torch.from_numpy(half).view(torch.bfloat16),
    ):
        assert tensor.dtype == torch.bfloat16 and tensor.data_ptr() == half.ctypes.data
        assert torch.equal(tensor, torch.from_numpy(full).to(torch.bfloat16))


def test_out_still_works_for_numpy_and_torch_bfloat16(encode) -> None:
    chroms, starts, ends = windows(4, 500, seed=4)
    out = torch.empty((4, 500, 1), dtype=torch.bfloat16)
    assert encode.get_batch(chroms, starts, ends, out=out, dtype="bfloat16", device="cpu") is out
    np.testing.assert_array_equal(
        out.view(torch.int16).numpy().view(np.uint16),
        encode.get_batch(chroms, starts, ends, dtype="bfloat16", device="cpu"),
    )


# --- StreamedDataloader --------------------------------------------------------------------


def queries(n: int, batch: int = 12, seed: int = 0):
    return [Batch(*windows(batch, 400, seed=seed + i)) for i in range(n)]


def test_streamed_batch_values_are_numpy_arrays(encode) -> None:
    qs = queries(3)
    with StreamedDataloader(iter(qs), encode, num_threads=2, device="cpu") as loader:
        got = list(loader)
    for batch, q in zip(got, qs, strict=True):
        assert isinstance(batch.values, np.ndarray) and batch.values.dtype == np.float32
        np.testing.assert_array_equal(batch.values, encode.get_batch(q.chromosomes, q.starts, q.ends, device="cpu"))
    with StreamedDataloader(iter(qs), encode, num_threads=2, dtype="bfloat16", device="cpu") as loader:
        half = list(loader)
    for batch, q in zip(half, qs, strict=True):
        assert batch.values.dtype == np.uint16
        want = encode.get_batch(q.chromosomes, q.starts, q.ends, dtype="bfloat16", device="cpu")
        np.testing.assert_array_equal(batch.values, want)


def test_a_slice_size_larger_than_the_batch_yields_the_whole_batch(encode) -> None:
    with StreamedDataloader(iter(queries(3, batch=12)), encode, num_threads=2, slice_size=50, device="cpu") as loader:
        got = list(loader)
    assert [len(b) for b in got] == [12, 12, 12]
    assert all(b.values.shape == (12, 400, 1) for b in got)


def test_the_loader_restarts_in_a_new_with_block(encode) -> None:
    def endless():
        i = 0
        while True:
            yield Batch(*windows(6, 400, seed=i))
            i += 1

    loader = StreamedDataloader(endless(), encode, num_threads=2, queue_size=2, slice_size=3, device="cpu")
    counts, seen = 0, []
    for _ in range(2):  # 0.3's test_dataloader_used_multiple_times: 3 + 3 batches
        with loader:
            for i, batch in enumerate(loader):
                counts += 1
                seen.append(int(batch.starts[0]))
                if i == 2:
                    break
    assert counts == 6
    # A generator carries on where it was: the second block reads later queries.
    first_block_queries = {int(windows(6, 400, seed=s)[1][0]) for s in range(2)}
    assert seen[3] not in first_block_queries

    # A list starts over in each block (iter() of it is fresh), and so does a plain re-iteration.
    qs = queries(2)
    listed = StreamedDataloader(qs, encode, num_threads=2, device="cpu")
    with listed:
        one = [np.asarray(b.starts).copy() for b in listed]
    with listed:
        two = [np.asarray(b.starts).copy() for b in listed]
    three = [np.asarray(b.starts).copy() for b in listed]
    assert len(one) == 2 and all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c in zip(one, two, three))


def test_two_iterations_of_one_run_at_once_are_refused(encode) -> None:
    loader = StreamedDataloader(queries(4), encode, num_threads=1, device="cpu")
    with loader:
        first = iter(loader)
        next(first)
        with pytest.raises(RuntimeError, match="already being iterated"):
            iter(loader)


# --- 0.3's import paths and attributes -----------------------------------------------------


def test_config_is_an_attribute_after_import_bigwig_loader(tmp_path: Path) -> None:
    """0.3 code reads `bigwig_loader.config.bigwig_dir` after `import bigwig_loader` alone. In a
    fresh interpreter: here another test's `from bigwig_loader import config` would set it."""
    done = subprocess.run(
        [sys.executable, "-c", "import bigwig_loader; print(bigwig_loader.config.bigwig_dir)"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BIGWIG_LOADER_BIGWIG_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path)


OLD_MODULES = ("path", "util", "config", "streamed_dataset", "download_example_data")


def test_every_old_import_path_is_its_compat03_module() -> None:
    """0.3's module paths still import, in a fresh interpreter, each as the very module in
    bigwig_loader.compat03 (so that assigning config.bigwig_dir or patching a function there is
    seen under both names), with the names 0.3 code takes from them."""
    script = (
        "import importlib, bigwig_loader, bigwig_loader.compat03 as c\n"
        f"for name in {OLD_MODULES!r}:\n"
        "    old = importlib.import_module('bigwig_loader.' + name)\n"
        "    assert old is getattr(c, name) is getattr(bigwig_loader, name), name\n"
        "import bigwig_loader.path, bigwig_loader.config\n"
        "from bigwig_loader.util import sort_intervals, chromosome_sort\n"
        "from bigwig_loader.path import interpret_path, map_path_to_value, match_key_to_path, subpaths\n"
        "from bigwig_loader.config import settings\n"
        "from bigwig_loader.streamed_dataset import StreamedDataloader\n"
        "from bigwig_loader.download_example_data import download_example_data, main\n"
        "from pathlib import Path\n"
        "bigwig_loader.config.bigwig_dir = Path('elsewhere')\n"
        "assert c.config.settings().bigwig_dir == Path('elsewhere')\n"
        "assert StreamedDataloader is bigwig_loader.StreamedDataloader\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_chromosome_sort_is_the_collections_order(tmp_path: Path) -> None:
    """util.chromosome_sort orders names as the engine orders a collection's table."""
    from bigwig_loader import write_bigwig
    from bigwig_loader.util import chromosome_sort

    names = ["chrUn_KI270302v1", "chr10", "chrM", "chr2", "chr1_KI270706v1_random", "chrX", "chr1", "scaffold_9"]
    sizes = {name: 1000 for name in names}
    rows = pd.DataFrame({"chrom": names, "start": 0, "end": 10, "value": 1.0})
    write_bigwig(tmp_path / "a.bw", sizes, rows)
    chromosomes = BigWigCollection(tmp_path / "a.bw").chromosomes
    assert sorted(chromosomes) == sorted(names)
    assert chromosome_sort(reversed(names)) == chromosomes


def test_streamed_dataset_module() -> None:
    from bigwig_loader.streamed_dataset import StreamedDataloader as Old

    assert Old is StreamedDataloader


def test_path_module(tmp_path: Path) -> None:
    from bigwig_loader.collection import interpret_path as from_collection
    from bigwig_loader.path import interpret_path, map_path_to_value, subpaths

    assert from_collection is interpret_path
    # subpaths: 0.3's docstring example.
    assert [str(p) for p in subpaths(Path("/home/jim/bigwig_files/liver/ENCFF1234.bigWig"), depth=3)] == [
        "bigwig_files/liver/ENCFF1234.bigWig",
        "bigwig_files/liver/ENCFF1234",
        "liver/ENCFF1234.bigWig",
        "liver/ENCFF1234",
        "ENCFF1234.bigWig",
        "ENCFF1234",
        "bigwig_files/liver",
        "liver",
    ]
    path = Path("/data/liver/ENCFF1234.bigWig")
    assert map_path_to_value(path, {"ENCFF1234": 2.0, "liver": 3.0}) == 2.0
    assert map_path_to_value(path, {"liver": 3.0, "heart": 4.0}) == 3.0
    assert map_path_to_value(path, {"liver/ENCFF1234.bigWig": 5.0, "ENCFF1234": 2.0}) == 5.0
    assert map_path_to_value(path, {"heart": 4.0}, default=1) == 1
    assert map_path_to_value(path, {Path("liver"): 7.0}) == 7.0
    # interpret_path: files, directories (0.3's extensions), lists; missing paths.
    for name in ("a.bw", "b.bigWig", "c.bigwig", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.bw").write_bytes(b"")
    assert [p.name for p in interpret_path(tmp_path)] == ["a.bw", "b.bigWig", "d.bw"]
    assert [p.name for p in interpret_path(tmp_path, crawl=False)] == ["a.bw", "b.bigWig"]
    assert [p.name for p in interpret_path([tmp_path / "c.bigwig", str(tmp_path / "sub")])] == ["c.bigwig", "d.bw"]
    with pytest.raises(FileNotFoundError):
        interpret_path(tmp_path / "nope")
    with pytest.raises(ValueError, match="interpret"):
        interpret_path(42)


def test_util_sort_intervals() -> None:
    from bigwig_loader.util import sort_intervals

    df = pd.DataFrame(
        {
            "chrom": ["chr10", "chr2", "chr1", "chrX", "chr2"],
            "start": [5, 9, 3, 1, 2],
            "end": [6, 10, 4, 2, 3],
            "value": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    got = sort_intervals(df)
    assert list(zip(got.chrom, got.start)) == [("chr1", 3), ("chr2", 2), ("chr2", 9), ("chr10", 5), ("chrX", 1)]
    assert list(df.chrom) == ["chr10", "chr2", "chr1", "chrX", "chr2"], "not in place by default"
    assert sort_intervals(df, inplace=True) is df and list(df.start) == [3, 2, 9, 5, 1]


def test_pytorch_batch_objects_have_torch_fields() -> None:
    from bigwig_loader.pytorch import PytorchBatch

    ds = phix_dataset(bigwig_loader.PytorchBigWigDataset, return_batch_objects=True, dtype="bfloat16")
    reference = list(phix_dataset(return_batch_objects=True))
    for batch, ref in zip(ds, reference, strict=True):
        assert isinstance(batch, PytorchBatch)
        assert isinstance(batch.starts, torch.Tensor) and isinstance(batch.ends, torch.Tensor)
        assert torch.equal(batch.starts, torch.as_tensor(ref.starts))
        assert torch.equal(batch.ends, torch.as_tensor(ref.ends))
        assert batch.values.dtype == torch.bfloat16 and batch.sequences.dtype == torch.float32
        assert batch.chromosomes == list(ref.chromosomes) and batch.track_names == ref.track_names
    # from_batch, as 0.3 users call it on a numpy Batch: uint16 bfloat16 bits become torch.bfloat16.
    raw = Batch(["chr1"], np.array([5]), np.array([9]), values=np.array([[[0x3F80]]], np.uint16))
    converted = PytorchBatch.from_batch(raw, dtype="bfloat16")
    assert converted.values.dtype == torch.bfloat16 and converted.values.item() == 1.0
    assert converted.starts.tolist() == [5] and converted.ends.tolist() == [9]


def test_dataset_bigwig_collection_and_collection_bigwigs(collection_dir: Path) -> None:
    ds = phix_dataset()
    assert ds.bigwig_collection is ds.collection
    assert phix_dataset(bigwig_loader.PytorchBigWigDataset).bigwig_collection.bigwig_paths == [real_file(PHIX_TRACK)]
    collection = BigWigCollection(collection_dir, scale={"a": 0.5})
    bigwigs = collection.bigwigs
    assert collection.bigwigs is bigwigs and len(bigwigs) == len(collection) == 3
    for i, (bw, path) in enumerate(zip(bigwigs, collection.bigwig_paths)):
        assert isinstance(bw, bigwig_loader.BigWig) and bw.path == str(path) and bw.id == i
        with pyBigWig.open(str(path)) as reference:
            assert bw.chroms == reference.chroms()
    assert [bw.scale for bw in bigwigs] == [0.5, 1.0, 1.0]


def test_reset_gpu_on_the_cpu_does_nothing_and_everything_still_works(encode) -> None:
    chroms, starts, ends = windows(4, 300)
    before = encode.get_batch(chroms, starts, ends, device="cpu")
    assert encode.reset_gpu() is None
    np.testing.assert_array_equal(encode.get_batch(chroms, starts, ends, device="cpu"), before)
    for ds in (phix_dataset(), phix_dataset(bigwig_loader.PytorchBigWigDataset)):
        ds.reset_gpu()
        assert len(list(ds)) == 3


def test_pinned_memory_size_is_accepted_and_checked() -> None:
    collection = BigWigCollection(real_file(ENCODE), pinned_memory_size=1 << 20)
    assert collection.pinned_memory_size == 1 << 20
    assert BigWigCollection(real_file(ENCODE)).pinned_memory_size == 10_000  # 0.3's default
    for bad in (-1, 1.5, "big"):
        with pytest.raises(ValueError, match="pinned_memory_size"):
            BigWigCollection(real_file(ENCODE), pinned_memory_size=bad)


def test_directory_discovery_finds_0_3s_extensions(tmp_path: Path) -> None:
    source = real_file("deeptools/testA_offset1.bw").read_bytes()
    for name in ("a.bw", "b.bigWig", "c.bigwig"):
        (tmp_path / name).write_bytes(source)
    assert [p.name for p in BigWigCollection(tmp_path).bigwig_paths] == ["a.bw", "b.bigWig"]
    found = BigWigCollection(tmp_path, file_extensions=(".bigWig", ".bw", ".bigwig")).bigwig_paths
    assert [p.name for p in found] == ["a.bw", "b.bigWig", "c.bigwig"]


# --- intervals() -------------------------------------------------------------------------


def write_intervals(path: Path, entries: dict[str, list[tuple[int, int, float]]], size: int = 1_000) -> Path:
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(c, size) for c in entries], maxZooms=0)
    for chrom, rows in entries.items():
        bw.addEntries(
            [chrom] * len(rows), [r[0] for r in rows], ends=[r[1] for r in rows], values=[float(r[2]) for r in rows]
        )
    bw.close()
    return path


def rows(df: pd.DataFrame) -> list[tuple]:
    return [(r.chrom, int(r.start), int(r.end), float(r.value)) for r in df.itertuples()]


def test_blacklist_subtracts_bases_as_in_0_3(tmp_path: Path) -> None:
    path = write_intervals(tmp_path / "x.bw", {"chr1": [(4, 22, 1.0), (50, 60, 2.0), (100, 200, 3.0), (300, 302, 4.0)]})
    collection = BigWigCollection(path)
    blacklist = pd.DataFrame({"chrom": ["chr1", "chr1", "chr1"], "start": [4, 120, 290], "end": [20, 130, 310]})
    before = blacklist.copy()
    got = collection.intervals(blacklist=blacklist)
    # [4, 22) minus [4, 20) is [20, 22) (0.3's own example); [100, 200) is cut in two; [300, 302) is gone.
    assert rows(got) == [("chr1", 20, 22, 1.0), ("chr1", 50, 60, 2.0), ("chr1", 100, 120, 3.0), ("chr1", 130, 200, 3.0)]
    pd.testing.assert_frame_equal(blacklist, before)  # 0.3 widened the caller's frame in place: not kept
    # The buffer widens each blacklisted region on both sides (once).
    buffered = collection.intervals(blacklist=blacklist, blacklist_buffer=5)
    assert rows(buffered) == [("chr1", 50, 60, 2.0), ("chr1", 100, 115, 3.0), ("chr1", 135, 200, 3.0)]


def test_padding_and_merging_never_reach_back_into_the_blacklist(tmp_path: Path) -> None:
    path = write_intervals(tmp_path / "x.bw", {"chr1": [(12, 14, 9.0), (30, 40, 1.0), (42, 45, 5.0)]})
    collection = BigWigCollection(path)
    blacklist = pd.DataFrame({"chrom": ["chr1"], "start": [10], "end": [25]})
    # [12, 14) lies inside the blacklist: dropped before padding (0.3 subtracts per file first);
    # [30, 40) padded by 10 is [20, 50), minus [10, 25) is [25, 50).
    padded = collection.intervals(blacklist=blacklist, padding=10)
    assert rows(padded) == [("chr1", 25, 50, 1.0), ("chr1", 32, 55, 5.0)]
    merged = collection.intervals(blacklist=blacklist, padding=10, merge=True)
    assert rows(merged) == [("chr1", 25, 55, 5.0)]


def test_threshold_is_on_scaled_values_and_0_means_none(tmp_path: Path) -> None:
    write_intervals(tmp_path / "x.bw", {"chr1": [(0, 10, 0.0), (10, 20, 1.0), (20, 30, 2.0), (30, 40, -1.0)]})
    write_intervals(tmp_path / "y.bw", {"chr1": [(0, 5, 1.0)]})
    collection = BigWigCollection(tmp_path, scale={"x": 2.0})
    assert rows(collection.intervals(threshold=1.5)) == [("chr1", 10, 20, 2.0), ("chr1", 20, 30, 4.0)]
    everything = [
        ("chr1", 0, 5, 1.0),
        ("chr1", 0, 10, 0.0),
        ("chr1", 10, 20, 2.0),
        ("chr1", 20, 30, 4.0),
        ("chr1", 30, 40, -2.0),
    ]
    assert rows(collection.intervals()) == everything, "0.3's default threshold=0.0 keeps zeros and negatives"
    assert rows(collection.intervals(threshold=0.0)) == everything
    assert rows(collection.intervals(threshold=None)) == everything


def test_intervals_batch_size_is_accepted(tmp_path: Path) -> None:
    path = write_intervals(tmp_path / "x.bw", {"chr1": [(0, 10, 1.0), (10, 20, 2.0)]})
    collection = BigWigCollection(path)
    assert rows(collection.intervals(batch_size=1)) == rows(collection.intervals())
    with pytest.raises(ValueError, match="batch_size"):
        collection.intervals(batch_size=0)
