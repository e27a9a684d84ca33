"""The CUDA backend against the CPU backend, on a machine with a GPU: ``pytest -m gpu``.

Every GPU result must be the CPU backend's bytes exactly (the device runs the same stage
functions, compiled without FMA contraction). scripts/test.sh deselects these on machines with
no CUDA device, where they cannot run; there, tests/python/test_device.py checks the errors.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import bigwig_loader
from bigwig_loader import BigWigCollection, BigWigDataset, StreamedDataloader
from conftest import bigwig_id, copy_with_corrupt_data, real_bigwigs, real_file
from test_collection_batch import DEFAULTS, WINDOW_SIZES, random_windows
from test_gpu_core import raw_batch

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module", autouse=True)
def gpu() -> None:
    assert bigwig_loader.cuda_available(), (
        "the gpu tests need a CUDA device: " + bigwig_loader._core.cuda_unavailable_reason()
    )


def bits(values) -> torch.Tensor:
    """The raw bits of a float32 or bfloat16 batch (numpy or CuPy array, or a bigwig_loader
    tensor), on the host: NaN payloads compare too. bfloat16 arrays are uint16 bit patterns."""
    import cupy

    if isinstance(values, cupy.ndarray):
        values = cupy.asnumpy(values)
    if isinstance(values, np.ndarray):
        return torch.from_numpy(values.view(np.int32) if values.itemsize == 4 else values.view(np.int16))
    t = torch.from_dlpack(values).cpu()
    return t.view(torch.int32) if t.dtype == torch.float32 else t.view(torch.int16)


@pytest.fixture
def without_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_batch and the loader hand out what they do when CuPy is not installed: CudaTensors."""
    monkeypatch.setattr(bigwig_loader.arrays, "_cupy", False)


def assert_gpu_equals_cpu(collection: BigWigCollection, chroms, starts, ends, **kwargs) -> None:
    import cupy

    cpu = collection.get_batch(chroms, starts, ends, device="cpu", **kwargs)
    gpu = collection.get_batch(chroms, starts, ends, device="cuda", **kwargs)
    assert isinstance(gpu, cupy.ndarray) and gpu.device.id == 0
    assert gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    assert torch.equal(bits(gpu), bits(cpu)), kwargs


def sweep(collection: BigWigCollection, chroms, starts, ends) -> None:
    """Every window size, default and dtype of the CPU tests."""
    for window_size in WINDOW_SIZES:
        for default in DEFAULTS:
            for dtype in ("float32", "bfloat16"):
                assert_gpu_equals_cpu(
                    collection, chroms, starts, ends, window_size=window_size, default_value=default, dtype=dtype
                )


@pytest.mark.parametrize("path", real_bigwigs(), ids=bigwig_id)
def test_real_files_bit_identical(path: Path) -> None:
    collection = BigWigCollection(path)
    sweep(collection, *random_windows(np.random.default_rng(7), collection.chrom_sizes, 64, 1_024, overhang=300))


def test_generated_collection_bit_identical(collection_dir: Path, generated_bigwig: Path) -> None:
    collection = BigWigCollection([collection_dir, generated_bigwig], scale={"a": 0.5, "c": -2.0})
    rng = np.random.default_rng(8)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 200, 1_408, overhang=2_000)
    sweep(collection, chroms, starts, ends)
    assert_gpu_equals_cpu(collection, chroms, starts, ends, track_indices=[3, 0, 0, 2], window_size=2)


def test_zero_copy_and_stream_order(without_cupy) -> None:
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    rng = np.random.default_rng(9)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 512, 1_000)
    expected = torch.from_dlpack(collection.get_batch(chroms, starts, ends, device="cpu"))
    batch = collection.get_batch(chroms, starts, ends, device="cuda")
    assert isinstance(batch, bigwig_loader.CudaTensor) and batch.device == "cuda:0"
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):  # a consumer on its own stream waits for the batch's kernels
        values = torch.from_dlpack(batch)
        total = values.double().nan_to_num().sum()
    assert values.data_ptr() == batch.data_ptr
    stream.synchronize()
    assert total.item() == pytest.approx(expected.double().nan_to_num().sum().item(), rel=1e-12)
    np.testing.assert_array_equal(np.asarray(batch.to_host()), expected.numpy())
    rows = batch[100:164]
    assert rows.shape == (64, 1_000, 1) and rows.data_ptr == batch.data_ptr + 100 * 1_000 * 4
    np.testing.assert_array_equal(torch.from_dlpack(rows).cpu().numpy(), expected.numpy()[100:164])


def test_cupy_takes_it_without_a_copy(without_cupy) -> None:
    import cupy

    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    batch = collection.get_batch([chrom] * 4, [0, 10, 20, 30], [500, 510, 520, 530], device="cuda")
    array = cupy.from_dlpack(batch)
    assert array.data.ptr == batch.data_ptr
    np.testing.assert_array_equal(cupy.asnumpy(array), np.asarray(batch.to_host()))


def test_a_corrupt_block_names_the_file_and_offset(tmp_path: Path) -> None:
    path = copy_with_corrupt_data(tmp_path)
    collection = BigWigCollection(path)
    chrom = collection.chromosomes[0]
    size = collection.chrom_sizes[chrom]
    with pytest.raises(bigwig_loader.BigWigError, match=r"corrupt\.bw.*byte offset \d+"):
        collection.get_batch([chrom], [0], [size], device="cuda")
    # The worker stays usable after the error: a window of a block the copy left intact (the
    # first blocks are garbled: [0, 10) raises on the CPU too) reads as on the CPU.
    np.testing.assert_array_equal(
        np.asarray(collection.get_batch([chrom], [40_000], [40_010], device="cuda").to_host()),
        collection.get_batch([chrom], [40_000], [40_010], device="cpu"),
    )


def test_threads_share_a_collection() -> None:
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    rng = np.random.default_rng(10)
    work = [random_windows(rng, collection.chrom_sizes, 32, 1_000) for _ in range(16)]
    expected = [bits(collection.get_batch(*w, device="cpu")) for w in work]
    results: list = [None] * len(work)

    def run(i: int) -> None:
        results[i] = bits(collection.get_batch(*work[i], device="cuda"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        assert torch.equal(got, want)


def test_streamed_dataloader_on_the_gpu(collection_dir: Path, without_cupy) -> None:
    collection = BigWigCollection(collection_dir)
    rng = np.random.default_rng(11)
    queries = [random_windows(rng, collection.chrom_sizes, 16, 512) for _ in range(20)]
    with StreamedDataloader(iter(queries), collection, num_threads=4, device="cuda", window_size=4) as loader:
        for batch, query in zip(loader, queries):
            assert isinstance(batch.values, bigwig_loader.CudaTensor)
            want = collection.get_batch(*query, window_size=4, device="cpu")
            assert torch.equal(bits(batch.values), bits(want))


PHIX_REGIONS = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})


def phix(device: str, cls=BigWigDataset, **kwargs):
    options = dict(
        sequence_length=200,
        center_bin_to_predict=100,
        batch_size=8,
        batches_per_epoch=5,
        seed=3,
        n_threads=2,
        reverse_complement=True,
        moving_average_window_size=5,
        device=device,
    )
    options.update(kwargs)
    return cls(
        PHIX_REGIONS, real_file("deeptools/bamCoverage_result4.bw"), real_file("deeptools/phiX.fasta"), **options
    )


def test_datasets_on_the_gpu_equal_the_cpu() -> None:
    import cupy

    for (cpu_seq, cpu_val), (gpu_seq, gpu_val) in zip(phix("cpu"), phix("cuda")):
        assert isinstance(gpu_seq, cupy.ndarray) and isinstance(gpu_val, cupy.ndarray)
        np.testing.assert_array_equal(cupy.asnumpy(gpu_seq), cpu_seq)
        np.testing.assert_array_equal(cupy.asnumpy(gpu_val), cpu_val)
    for (cpu_seq, cpu_val), (gpu_seq, gpu_val) in zip(
        phix("cpu", bigwig_loader.PytorchBigWigDataset, dtype="bfloat16"),
        phix("cuda", bigwig_loader.PytorchBigWigDataset, dtype="bfloat16"),
    ):
        assert gpu_seq.is_cuda and gpu_val.is_cuda and gpu_val.dtype == torch.bfloat16
        assert torch.equal(gpu_seq.cpu(), cpu_seq) and torch.equal(
            gpu_val.cpu().view(torch.int16), cpu_val.view(torch.int16)
        )


# --- bigwig-loader 0.3 compatibility on the GPU (the CPU side is test_compat03.py) ---------------


def encode_windows(n: int = 16, length: int = 1_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    starts = rng.integers(16_000_000, 51_000_000, n)
    return ["chr22"] * n, starts, starts + length


def test_get_batch_returns_a_cupy_array_as_0_3_does() -> None:
    import cupy

    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    chroms, starts, ends = encode_windows()
    values = collection.get_batch(chroms, starts, ends, 1, 0.0, device="cuda")  # 0.3's positional call
    want = collection.get_batch(chroms, starts, ends, device="cpu")
    assert isinstance(values, cupy.ndarray) and values.dtype == cupy.float32 and values.shape == (16, 1_000, 1)
    head = values[:, :100, :]
    np.testing.assert_array_equal(cupy.asnumpy(head * 2 + 1), want[:, :100] * 2 + 1)
    np.testing.assert_array_equal(cupy.asnumpy(values.reshape(16, 1_000)), want.reshape(16, 1_000))
    assert torch.from_dlpack(values).data_ptr() == values.data.ptr  # still DLPack, no copy
    # The array keeps the batch's memory alive after every other reference is gone.
    view = values[3:5]
    del values, head
    import gc

    gc.collect()
    for _ in range(5):
        collection.get_batch(*encode_windows(seed=1), device="cuda")
    np.testing.assert_array_equal(cupy.asnumpy(view), want[3:5])


def test_bfloat16_on_the_gpu_is_a_cupy_uint16_view_for_torch_and_numpy() -> None:
    import cupy

    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    chroms, starts, ends = encode_windows(8, 700, seed=2)
    half = collection.get_batch(chroms, starts, ends, window_size=7, dtype="bfloat16", device="cuda")
    host_half = collection.get_batch(chroms, starts, ends, window_size=7, dtype="bfloat16", device="cpu")
    full = collection.get_batch(chroms, starts, ends, window_size=7, device="cpu")
    assert isinstance(half, cupy.ndarray) and half.dtype == cupy.uint16 and half.shape == full.shape
    np.testing.assert_array_equal(cupy.asnumpy(half), host_half)
    # torch, as 0.3's README says: as_tensor(...).view(torch.bfloat16), no copy.
    tensor = torch.as_tensor(half, device="cuda").view(torch.bfloat16)
    assert tensor.dtype == torch.bfloat16 and tensor.data_ptr() == half.data.ptr
    assert torch.equal(tensor.cpu(), torch.from_numpy(full).to(torch.bfloat16))
    # numpy / CuPy arithmetic on the bit patterns.
    widened = (half.astype(cupy.uint32) << 16).view(cupy.float32)
    np.testing.assert_array_equal(cupy.asnumpy(widened), torch.from_numpy(full).to(torch.bfloat16).float().numpy())


def test_without_cupy_get_batch_returns_the_cuda_tensor(without_cupy) -> None:
    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    for dtype in ("float32", "bfloat16"):
        batch = collection.get_batch([chrom] * 2, [0, 10], [100, 110], device="cuda", dtype=dtype)
        assert isinstance(batch, bigwig_loader.CudaTensor) and batch.dtype == dtype


def test_streamed_values_on_the_gpu_are_cupy_arrays(collection_dir: Path) -> None:
    import cupy

    collection = BigWigCollection(collection_dir)
    rng = np.random.default_rng(12)
    queries = [random_windows(rng, collection.chrom_sizes, 12, 256) for _ in range(4)]
    for dtype, kind in (("float32", cupy.float32), ("bfloat16", cupy.uint16)):
        with StreamedDataloader(
            iter(queries), collection, num_threads=2, device="cuda", dtype=dtype, slice_size=50
        ) as loader:
            got = list(loader)
        assert len(got) == 4, "a slice_size larger than the batch yields the whole batch"
        for batch, query in zip(got, queries):
            assert isinstance(batch.values, cupy.ndarray) and batch.values.dtype == kind
            want = collection.get_batch(*query, dtype=dtype, device="cpu")
            assert torch.equal(bits(batch.values), bits(want))


def test_streamed_dataloader_restarts_on_the_gpu(collection_dir: Path) -> None:
    collection = BigWigCollection(collection_dir)
    rng = np.random.default_rng(13)
    queries = [random_windows(rng, collection.chrom_sizes, 6, 128) for _ in range(3)]
    loader = StreamedDataloader(queries, collection, num_threads=2, device="cuda")
    runs = []
    for _ in range(2):
        with loader:
            runs.append([bits(b.values) for b in loader])
    assert len(runs[0]) == len(runs[1]) == 3
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_dataset_dtype_is_the_values_only_on_the_gpu() -> None:
    import cupy

    for (cpu_seq, cpu_val), (gpu_seq, gpu_val) in zip(phix("cpu", dtype="bfloat16"), phix("cuda", dtype="bfloat16")):
        assert gpu_seq.dtype == cupy.float32 and gpu_val.dtype == cupy.uint16
        np.testing.assert_array_equal(cupy.asnumpy(gpu_seq), cpu_seq)
        np.testing.assert_array_equal(cupy.asnumpy(gpu_val), cpu_val)
    seq, _ = next(iter(phix("cuda", sequence_dtype="bfloat16")))
    cpu_seq, _ = next(iter(phix("cpu", sequence_dtype="bfloat16")))
    assert seq.dtype == cupy.uint16 and np.array_equal(cupy.asnumpy(seq), cpu_seq)


def test_dataset_epochs_advance_on_the_gpu() -> None:
    ds = phix("cuda", return_batch_objects=True)
    first = [np.asarray(b.starts).copy() for b in ds]
    second = [np.asarray(b.starts).copy() for b in ds]
    assert not any(np.array_equal(a, b) for a, b in zip(first, second))
    cpu = phix("cpu", return_batch_objects=True)
    cpu.set_epoch(1)
    assert all(np.array_equal(a, np.asarray(b.starts)) for a, b in zip(second, cpu))


def test_pytorch_batch_objects_on_the_gpu() -> None:
    from bigwig_loader.pytorch import PytorchBatch

    for batch in phix("cuda", bigwig_loader.PytorchBigWigDataset, return_batch_objects=True, dtype="bfloat16"):
        assert isinstance(batch, PytorchBatch)
        assert batch.values.is_cuda and batch.values.dtype == torch.bfloat16
        assert batch.sequences.is_cuda and batch.sequences.dtype == torch.float32
        assert isinstance(batch.starts, torch.Tensor) and isinstance(batch.ends, torch.Tensor)
        assert batch.track_names == [real_file("deeptools/bamCoverage_result4.bw")]


def test_reset_gpu_releases_device_memory_and_keeps_working() -> None:
    torch.cuda.init()
    staging = 512 << 20
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"), pinned_memory_size=staging)
    chroms, starts, ends = encode_windows(8, 500, seed=4)
    want = collection.get_batch(chroms, starts, ends, device="cpu")
    torch.cuda.synchronize()
    free_before, _ = torch.cuda.mem_get_info()
    kept = collection.get_batch(chroms, starts, ends, device="cuda")
    free_loaded, _ = torch.cuda.mem_get_info()
    assert free_before - free_loaded >= staging, "pinned_memory_size sizes the device staging up front"
    collection.reset_gpu()
    free_after, _ = torch.cuda.mem_get_info()
    assert free_after - free_loaded >= staging, "reset_gpu frees the backend's device memory"
    assert torch.equal(bits(kept), bits(want)), "arrays handed out before stay valid"
    assert torch.equal(bits(collection.get_batch(chroms, starts, ends, device="cuda")), bits(want))
    collection.reset_gpu()
    for ds in (phix("cuda"), phix("cuda", bigwig_loader.PytorchBigWigDataset)):
        ds.reset_gpu()
        assert len(list(ds)) == 5


# --- issue 10: the GPU path's fixes -----------------------------------------------------------


def test_nan_payloads_come_out_canonical_and_identical(tmp_path: Path) -> None:
    from test_nan_bits import CANONICAL_BF16, CANONICAL_F32, nan_bits, write_nan_payloads

    collection = BigWigCollection(write_nan_payloads(tmp_path / "nan_payloads.bw"))
    weird_nan = float(np.array(0xFFC0BEEF, dtype=np.uint32).view(np.float32))
    for window_size in (1, 4):
        for default in (0.0, weird_nan):
            for dtype in ("float32", "bfloat16"):
                kwargs = dict(window_size=window_size, default_value=default, dtype=dtype)
                assert_gpu_equals_cpu(collection, ["chr1", "chr1"], [0, 400], [1_200, 1_600], **kwargs)
                gpu = collection.get_batch(["chr1"], [0], [1_200], device="cuda", **kwargs)
                got = nan_bits(bits(gpu).numpy(), dtype)
                assert len(got) > 100
                assert set(got.tolist()) == {CANONICAL_F32 if dtype == "float32" else CANONICAL_BF16}


def test_the_default_device_follows_torch_current_device() -> None:
    import cupy

    bigwig_loader.set_default_device(None)
    torch.cuda.set_device(0)
    assert torch.cuda.is_initialized()
    assert bigwig_loader.default_device() == "cuda:0"
    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    assert isinstance(collection.get_batch([chrom], [0], [100]), cupy.ndarray)
    bigwig_loader.set_default_device("cpu")
    try:
        assert isinstance(collection.get_batch([chrom], [0], [100]), np.ndarray)
    finally:
        bigwig_loader.set_default_device(None)


def test_dlpack_stream_zero_is_the_legacy_stream() -> None:
    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    batch = raw_batch(collection, [chrom] * 4, [0, 10, 20, 30], [500, 510, 520, 530])
    batch.__dlpack__(stream=0)  # older torch passes 0; CuPy reads it as the legacy stream
    batch.__dlpack__(stream=1)
    batch.__dlpack__(stream=-1)
    with pytest.raises(ValueError, match="stream"):
        batch.__dlpack__(stream=-5)
    np.testing.assert_array_equal(torch.from_dlpack(batch).cpu().numpy(), np.asarray(batch.to_host()))


def test_a_stale_cuda_error_is_not_blamed_on_the_next_launch() -> None:
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    chroms, starts, ends = random_windows(np.random.default_rng(12), collection.chrom_sizes, 16, 1_000)
    want = bits(collection.get_batch(chroms, starts, ends, device="cpu"))
    assert bigwig_loader._core._cuda_leave_stale_error() != 0
    got = raw_batch(collection, chroms, starts, ends)
    assert torch.equal(bits(got), want)
    assert bigwig_loader._core._cuda_leave_stale_error() != 0
    bigwig_loader._core.moving_average_rows(got, 3)  # a transform's launch too
    bigwig_loader._core.flip_rows(got, [1] * 16, [0])


@pytest.mark.parametrize("cap", [1, 64 * 1024, 1 << 20])
def test_inflate_in_chunks_under_a_cap_is_bit_identical(cap: int, collection_dir: Path, generated_bigwig: Path) -> None:
    collection = BigWigCollection([collection_dir, generated_bigwig])
    backend = bigwig_loader._core.make_processor(0, 2, inflate_cap=cap)
    assert backend.inflate_cap == cap
    rng = np.random.default_rng(13)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 96, 2_048, overhang=500)
    for window_size, default, dtype in ((1, 0.0, "float32"), (16, float("nan"), "bfloat16"), (2, 3.5, "float32")):
        got = raw_batch(collection, chroms, starts, ends, backend, window_size, default, dtype)
        want = collection.get_batch(
            chroms, starts, ends, window_size=window_size, default_value=default, dtype=dtype, device="cpu"
        )
        assert torch.equal(bits(got), bits(want)), (cap, window_size)


def test_stage_times_from_cuda_events() -> None:
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    backend = bigwig_loader._core.make_processor(0, 2)
    rng = np.random.default_rng(14)
    backend.time_stages(True)
    for _ in range(3):
        raw_batch(collection, *random_windows(rng, collection.chrom_sizes, 64, 1_000), backend)
    times = backend.stage_times()
    assert times["batches"] == 3
    for stage in ("read_ms", "copy_ms", "inflate_ms", "decode_ms", "fill_ms"):
        assert times[stage] > 0, stage
    backend.time_stages(False)
    assert backend.stage_times()["batches"] == 0


def test_a_batch_freed_while_a_consumer_reads_it_stays_valid_until_then() -> None:
    """Stream-ordered free: dropping the last reference while the consumer's stream (the one
    named at export) still has queued work on the memory frees it after that work, and later
    batches reusing the memory cannot change what the consumer computes."""
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    rng = np.random.default_rng(15)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 256, 1_000)
    expected = bits(collection.get_batch(chroms, starts, ends, device="cpu")).view(torch.float32).double()
    expected = expected.nan_to_num().sum()
    stream = torch.cuda.Stream()
    batch = raw_batch(collection, chroms, starts, ends)
    with torch.cuda.stream(stream):
        torch.cuda._sleep(200_000_000)  # the consumer's stream is busy for a while
        values = torch.from_dlpack(batch)
        total = values.double().nan_to_num().sum()
    del values, batch
    for _ in range(8):  # new batches on the same backend, which may reuse the freed memory
        other = raw_batch(collection, *random_windows(rng, collection.chrom_sizes, 256, 1_000))
        torch.from_dlpack(other).fill_(12345.0)
    stream.synchronize()
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
