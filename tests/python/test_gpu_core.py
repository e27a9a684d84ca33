"""The CUDA backend through bigwig-loader alone (no torch, no CuPy), marked gpu: short, so that
scripts/gpu_check.sh runs it under compute-sanitizer (memcheck, racecheck). Every batch is
compared bit for bit with the CPU backend through host copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bigwig_loader
from bigwig_loader import BigWigCollection
from conftest import real_file
from test_collection_batch import random_windows

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module", autouse=True)
def gpu() -> None:
    assert bigwig_loader.cuda_available(), (
        "the gpu tests need a CUDA device: " + bigwig_loader._core.cuda_unavailable_reason()
    )


def host_bits(values) -> np.ndarray:
    """float32 bits on the host, from a CudaTensor or a host Tensor / numpy array."""
    if isinstance(values, bigwig_loader.CudaTensor):
        values = values.to_host()
    return np.asarray(values).view(np.uint32)


def raw_batch(
    collection: BigWigCollection,
    chroms,
    starts,
    ends,
    backend=None,
    window_size: int = 1,
    default_value: float = 0.0,
    dtype: str = "float32",
    device: str = "cuda",
):
    """The backend's own tensor (what get_batch wraps for users): a CudaTensor, or with
    device="cpu" a host Tensor, which the transforms take too; for tests of its DLPack export and
    transforms (test_gpu.py uses it too)."""
    request = collection.batch_request(chroms, starts, ends, window_size, default_value, dtype=dtype)
    if device == "cpu":
        return collection.processor(-1).load(collection.core_collection, request)
    backend = backend or collection.processor(0)
    return backend.load(collection.core_collection, request)


def test_batches_equal_the_cpu_backend(collection_dir: Path, generated_bigwig: Path) -> None:
    collection = BigWigCollection([collection_dir, generated_bigwig, real_file("bbi-js/volvox.bw")])
    rng = np.random.default_rng(21)
    for window_size, default, dtype in ((1, 0.0, "float32"), (4, float("nan"), "float32"), (16, 1.5, "float32")):
        chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 48, 1_024, overhang=300)
        kwargs = dict(window_size=window_size, default_value=default, dtype=dtype)
        gpu = raw_batch(collection, chroms, starts, ends, window_size=window_size, default_value=default)
        cpu = collection.get_batch(chroms, starts, ends, device="cpu", **kwargs)
        np.testing.assert_array_equal(host_bits(gpu), host_bits(cpu))


def test_chunked_inflate_and_transforms(collection_dir: Path) -> None:
    collection = BigWigCollection(collection_dir)
    backend = bigwig_loader._core.make_processor(0, 2, inflate_cap=1)  # every block its own chunk
    rng = np.random.default_rng(22)
    chroms, starts, ends = random_windows(rng, collection.chrom_sizes, 24, 512)
    gpu = raw_batch(collection, chroms, starts, ends, backend)
    cpu = raw_batch(collection, chroms, starts, ends, device="cpu")
    np.testing.assert_array_equal(host_bits(gpu), host_bits(cpu))
    flip = [i % 2 for i in range(24)]
    permutation = list(range(len(collection)))[::-1]
    for _ in range(2):  # the second call reuses the worker's transform scratch
        bigwig_loader._core.flip_rows(gpu, flip, permutation)
        bigwig_loader._core.flip_rows(cpu, flip, permutation)
        bigwig_loader._core.moving_average_rows(gpu, 5)
        bigwig_loader._core.moving_average_rows(cpu, 5)
    np.testing.assert_array_equal(host_bits(gpu), host_bits(cpu))
    del gpu  # freed stream-ordered while nothing waits


def test_a_stale_error_and_rows_views() -> None:
    collection = BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"))
    chroms, starts, ends = random_windows(np.random.default_rng(23), collection.chrom_sizes, 32, 1_000)
    assert bigwig_loader._core._cuda_leave_stale_error() != 0
    gpu = raw_batch(collection, chroms, starts, ends)
    cpu = collection.get_batch(chroms, starts, ends, device="cpu")
    rows = gpu[8:16]
    del gpu  # the view keeps the memory
    np.testing.assert_array_equal(host_bits(rows), host_bits(cpu)[8:16])
