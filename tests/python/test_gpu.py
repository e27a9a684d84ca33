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
from conftest import copy_with_corrupt_data, real_bigwigs, real_file
from test_collection_batch import DEFAULTS, WINDOW_SIZES, random_windows

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module", autouse=True)
def gpu() -> None:
    assert bigwig_loader.cuda_available(), (
        "the gpu tests need a CUDA device: " + bigwig_loader._core.cuda_unavailable_reason()
    )


def bits(tensor) -> torch.Tensor:
    """The raw bits of a float32 or bfloat16 batch, on the host: NaN payloads compare too."""
    t = torch.from_dlpack(tensor).cpu()
    return t.view(torch.int32) if t.dtype == torch.float32 else t.view(torch.int16)


def assert_gpu_equals_cpu(collection: BigWigCollection, chroms, starts, ends, **kwargs) -> None:
    cpu = collection.get_batch(chroms, starts, ends, device="cpu", **kwargs)
    gpu = collection.get_batch(chroms, starts, ends, device="cuda", **kwargs)
    assert isinstance(gpu, bigwig_loader.CudaTensor) and gpu.device == "cuda:0"
    assert gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    assert torch.equal(bits(gpu), bits(cpu)), kwargs


def sweep(collection: BigWigCollection, chroms, starts, ends) -> None:
    """Every window size, default and dtype of the CPU tests."""
    for window_size in WINDOW_SIZES:
        for default in DEFAULTS:
            for dtype in ("float32", "bfloat16"):
                assert_gpu_equals_cpu(collection, chroms, starts, ends, window_size=window_size,
                                      default_value=default, dtype=dtype)


@pytest.mark.parametrize("path", real_bigwigs(), ids=lambda p: p.name)
def test_real_files_bit_identical(path: Path) -> None:
    collection = BigWigCollection(path)
    sweep(collection, *random_windows(np.random.default_rng(7), collection.chrom_sizes, 64, 1_024, overhang=300))


def test_generated_collection_bit_identical(collection_dir: Path, generated_bigwig: Path) -> None:
    collection = BigWigCollection([collection_dir, generated_bigwig], scale={"a": 0.5, "c": -2.0})
    rng = np.random.default_rng(8)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 200, 1_408, overhang=2_000)
    sweep(collection, chroms, starts, ends)
    assert_gpu_equals_cpu(collection, chroms, starts, ends, track_indices=[3, 0, 0, 2], window_size=2)


def test_zero_copy_and_stream_order() -> None:
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    rng = np.random.default_rng(9)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 512, 1_000)
    expected = torch.from_dlpack(collection.get_batch(chroms, starts, ends, device="cpu"))
    batch = collection.get_batch(chroms, starts, ends, device="cuda")
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


def test_cupy_takes_it_without_a_copy() -> None:
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
    # The worker stays usable after the error.
    collection.get_batch([chrom], [0], [10], device="cuda")


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


def test_streamed_dataloader_on_the_gpu(collection_dir: Path) -> None:
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
    options = dict(sequence_length=200, center_bin_to_predict=100, batch_size=8, batches_per_epoch=5, seed=3,
                   n_threads=2, reverse_complement=True, moving_average_window_size=5, device=device)
    options.update(kwargs)
    return cls(PHIX_REGIONS, real_file("deeptools/bamCoverage_result4.bw"), real_file("deeptools/phiX.fasta"),
               **options)


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
        assert torch.equal(gpu_seq.cpu(), cpu_seq) and torch.equal(gpu_val.cpu().view(torch.int16), cpu_val.view(torch.int16))
