"""device= everywhere: its one reading, and a clear DeviceError for a GPU that cannot be used.

These run on every machine: where a GPU is visible, "cuda:999" stands in for the device that
cannot be used, so the same assertions hold with and without one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import bigwig_loader
from bigwig_loader import BigWigCollection, BigWigDataset, DeviceError, StreamedDataloader, cuda_available
from bigwig_loader import _core
from bigwig_loader.device import CPU, automatic_ordinal, device_name, resolve_device
from conftest import real_file

UNUSABLE = "cuda:999" if cuda_available() else "cuda"


def test_device_names_resolve_to_ordinals() -> None:
    assert resolve_device("cpu") == CPU == -1
    assert resolve_device(torch.device("cpu")) == CPU
    assert resolve_device(None) == CPU  # conftest: tests not marked gpu mean the CPU
    assert device_name(CPU) == "cpu" and device_name(3) == "cuda:3"
    for bad in ("gpu", "tpu", "cuda:x", "cuda:-1", "CUDA", "cuda:0:1", "", -2):
        with pytest.raises(ValueError, match="device must be"):
            resolve_device(bad)
    # A resolved ordinal is taken as it is (a layer hands it down instead of a name to parse again).
    assert resolve_device(CPU) == CPU and resolve_device(np.int64(-1)) == CPU
    with pytest.raises(DeviceError, match="cuda:999"):
        resolve_device(999)


def test_an_unusable_gpu_is_a_device_error_saying_why() -> None:
    assert issubclass(DeviceError, RuntimeError)
    with pytest.raises(DeviceError, match="cuda") as info:
        resolve_device(UNUSABLE)
    if not cuda_available():
        assert _core.cuda_unavailable_reason() in str(info.value)
    with pytest.raises(DeviceError, match="'cuda:999'"):
        resolve_device("cuda:999")


def test_get_batch_on_an_unusable_gpu_raises_and_cpu_is_untouched() -> None:
    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    with pytest.raises(DeviceError):
        collection.get_batch([chrom], [0], [100], device=UNUSABLE)
    cpu = np.asarray(collection.get_batch([chrom], [0], [100], device="cpu"))
    default = collection.get_batch([chrom], [0], [100])
    np.testing.assert_array_equal(np.asarray(default), cpu)  # the default is the CPU in these tests
    assert cpu.shape == (1, 100, 1)


def test_out_is_for_the_cpu() -> None:
    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    out = np.empty((1, 100, 1), dtype=np.float32)
    assert collection.get_batch([chrom], [0], [100], out=out, device="cpu") is out
    if cuda_available():
        with pytest.raises(ValueError, match="out= is for device='cpu'"):
            collection.get_batch([chrom], [0], [100], out=out, device="cuda")


def test_loaders_and_datasets_on_an_unusable_gpu_raise_at_construction() -> None:
    collection = BigWigCollection(real_file("deeptools/bamCoverage_result4.bw"))
    with pytest.raises(DeviceError):
        StreamedDataloader(iter([]), collection, device=UNUSABLE)
    regions = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})
    options = dict(sequence_length=200, batch_size=4, batches_per_epoch=1)
    fasta = real_file("deeptools/phiX.fasta")
    with pytest.raises(DeviceError):
        BigWigDataset(regions, collection, fasta, device=UNUSABLE, **options)
    with pytest.raises(DeviceError):
        bigwig_loader.PytorchBigWigDataset(regions, collection, fasta, device=UNUSABLE, **options)
    with pytest.raises(ValueError, match="device must be"):
        BigWigDataset(regions, collection, fasta, device="tpu", **options)
    ds = BigWigDataset(regions, collection, fasta, device="cpu", **options)
    assert ds.device == "cpu"
    sequences, values = next(iter(ds))
    assert isinstance(sequences, np.ndarray) and isinstance(values, np.ndarray)


def test_the_cuda_types_exist_in_a_cuda_build() -> None:
    if _core.built_with_cuda:
        assert bigwig_loader.CudaTensor is _core.CudaTensor
        assert _core.CudaTensor.__dlpack_device__ is not None
        with pytest.raises(DeviceError):
            _core.make_processor(999)
    else:
        with pytest.raises(AttributeError, match="no CUDA backend"):
            bigwig_loader.CudaTensor  # noqa: B018


def test_the_automatic_default_follows_the_process_cuda_device() -> None:
    # No usable GPU: the CPU, whatever torch or torchrun say.
    assert automatic_ordinal(0, None, None) == CPU
    assert automatic_ordinal(0, 3, "5") == CPU
    # torch's current device, once torch has initialised CUDA, wins over LOCAL_RANK.
    assert automatic_ordinal(8, 3, "5") == 3
    # Else torchrun's LOCAL_RANK: each rank its own GPU; a rank that sees one GPU takes it.
    assert automatic_ordinal(8, None, "5") == 5
    assert automatic_ordinal(1, None, "5") == 0
    assert automatic_ordinal(4, None, "6") == 2
    # Else device 0.
    assert automatic_ordinal(2, None, None) == 0
    assert automatic_ordinal(2, None, "") == 0
    for bad in ("x", "-1", "1.5"):
        with pytest.raises(ValueError, match="LOCAL_RANK"):
            automatic_ordinal(2, None, bad)


def test_set_default_device_is_what_none_means(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bigwig_loader.default_device() == "cpu"  # conftest set it for this test
    bigwig_loader.set_default_device(None)  # automatic
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert bigwig_loader.default_device() == ("cuda:0" if cuda_available() else "cpu")
    with pytest.raises(ValueError, match="device must be"):
        bigwig_loader.set_default_device("gpu")
    with pytest.raises(DeviceError):
        bigwig_loader.set_default_device(UNUSABLE)
    assert resolve_device(None) == (0 if cuda_available() else CPU)  # unchanged by the refusals
    bigwig_loader.set_default_device(torch.device("cpu"))
    assert resolve_device(None) == CPU and bigwig_loader.default_device() == "cpu"
    collection = BigWigCollection(real_file("bbi-js/volvox.bw"))
    chrom = collection.chromosomes[0]
    assert isinstance(collection.get_batch([chrom], [0], [10]), np.ndarray)


def test_the_automatic_default_never_initialises_cuda_in_torch() -> None:
    # Asking for the default must not create a CUDA context on device 0 through torch.
    bigwig_loader.set_default_device(None)
    initialised = torch.cuda.is_initialized()
    bigwig_loader.default_device()
    assert torch.cuda.is_initialized() == initialised


def test_no_driver_reads_as_no_driver_not_as_an_old_one() -> None:
    """On a machine with no NVIDIA driver the CUDA runtime answers 'driver version is
    insufficient', which reads as 'update your driver': the reason says there is none."""
    import ctypes

    reason = _core.cuda_unavailable_reason()
    if cuda_available():
        assert reason == ""
        return
    try:
        ctypes.CDLL("libcuda.so.1")
        driver = True
    except OSError:
        driver = False
    if not driver and reason != "bigwig-loader was built without CUDA":
        assert reason == "no CUDA driver found (libcuda.so.1 is not installed): no GPU on this machine"
    assert "insufficient" not in reason
