"""Bad arguments at the Python face get a TypeError or ValueError naming the argument and what
it got, never pybind11's "incompatible function arguments" dump, and never a wrapped value:
numpy turns 2**63 into a uint64 and then a negative int64 without a word."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bigwig_loader import BigWig, BigWigCollection, BigWigDataset, StreamedDataloader
from conftest import real_file

ENCODE = "bbi-js/ENCFF826FLP.bw"


@pytest.fixture(scope="module")
def collection() -> BigWigCollection:
    return BigWigCollection(real_file(ENCODE), n_threads=1)


@pytest.fixture(scope="module")
def bigwig() -> BigWig:
    return BigWig(real_file(ENCODE))


def no_pybind_dump(error: pytest.ExceptionInfo) -> None:
    assert "incompatible function arguments" not in str(error.value)


@pytest.mark.parametrize(
    "starts, ends, error, match",
    [
        ([0], [2**63], ValueError, r"end\[0\] is 9223372036854775808"),
        ([2**63 - 10], [2**63], ValueError, r"start\[0\] is 9223372036854775798"),
        ([0], [2**70], ValueError, r"end\[0\] must be at most 4611686018427387904, got 1180591620717411303424"),
        ([-(2**63)], [0], ValueError, r"start\[0\] is -9223372036854775808"),
        (np.array([2**62 + 1], dtype=np.uint64), np.array([2**62 + 2], dtype=np.uint64), ValueError, r"start\[0\]"),
        # int64 arrays: the lowest and highest judged in Python for a small batch, by numpy for a large one
        (np.array([0, -(2**62) - 1]), np.array([10, 10]), ValueError, r"start\[1\] is -4611686018427387905"),
        (np.arange(100), np.where(np.arange(100) == 70, 2**62 + 1, np.arange(100) + 1), ValueError, r"end\[70\] is"),
        ([0, 1], [10, 2**63], ValueError, r"end\[1\] must be at most 4611686018427387904, got 9223372036854775808"),
        ([0.5], [10], TypeError, r"start\[0\] must be an integer, got 0.5 \(float\)"),
        (np.array([0.5]), [10], TypeError, r"start must be integers, got an array of float64"),
        (["0"], [10], TypeError, r"start must be integers"),
    ],
)
def test_coordinates_that_do_not_fit_are_named(collection, starts, ends, error, match) -> None:
    with pytest.raises(error, match=match) as caught:
        collection.get_batch(["chr22"] * len(starts), starts, ends, device="cpu")
    no_pybind_dump(caught)


def test_numpy_arrays_of_names_pass_the_check(collection) -> None:
    got = np.from_dlpack(collection.get_batch(np.array(["chr22", "chr22"]), [0, 10], [10, 20], device="cpu"))
    assert got.shape == (2, 10, 1)


def test_coordinates_far_outside_the_chromosome_still_read_as_default(collection) -> None:
    start = 2**62 - 100
    got = np.from_dlpack(collection.get_batch(["chr22"], [start], [start + 10], default_value=3.0, device="cpu"))
    assert (got == 3.0).all()


@pytest.mark.parametrize("default_value", ["x", None, True])
def test_get_batch_names_a_default_value_that_is_not_a_number(collection, default_value) -> None:
    with pytest.raises(TypeError, match=r"default_value must be a number, got") as caught:
        collection.get_batch(["chr22"], [0], [10], default_value=default_value, device="cpu")
    no_pybind_dump(caught)


@pytest.mark.parametrize(
    "window_size, error, match",
    [
        (2**32, ValueError, r"window_size must be at most 4294967295, got 4294967296"),
        (0, ValueError, r"window_size must be at least 1, got 0"),
        (2.0, TypeError, r"window_size must be an integer, got 2.0 \(float\)"),
        (True, TypeError, r"window_size must be an integer, got True \(bool\)"),
    ],
)
def test_window_size_out_of_range(collection, window_size, error, match) -> None:
    with pytest.raises(error, match=match) as caught:
        collection.get_batch(["chr22"], [0], [2**33], window_size=window_size, device="cpu")
    no_pybind_dump(caught)


@pytest.mark.parametrize(
    "chromosomes, error, match",
    [
        ([1], TypeError, r"chromosomes must be names \(str\), got 1 \(int\)"),
        ([None], TypeError, r"got None \(NoneType\)"),
        (["chr22", b"chr22"], TypeError, r"got b'chr22' \(bytes\)"),
        (["chr22\x00"], ValueError, r"NUL"),
        (["chr\x0022"], ValueError, r"NUL"),
        (np.array(["chr\x0022"]), ValueError, r"NUL"),
        ("chr22", TypeError, r"sequence of chromosome names, got a single str"),
        (np.array([1, 2]), TypeError, r"chromosomes must be names \(str\), got an array of int64"),
    ],
)
def test_chromosome_names_are_strings_without_nul(collection, chromosomes, error, match) -> None:
    n = len(chromosomes) if not isinstance(chromosomes, str) else 1
    with pytest.raises(error, match=match) as caught:
        collection.get_batch(chromosomes, [0] * n, [10] * n, device="cpu")
    no_pybind_dump(caught)


@pytest.mark.parametrize(
    "chrom, start, end, error, match",
    [
        (
            "chr22",
            2**70,
            2**70 + 1,
            ValueError,
            r"start must be at most 4611686018427387904, got 1180591620717411303424",
        ),
        ("chr22", 0, 2**64, ValueError, r"end must be at most 4611686018427387904, got 18446744073709551616"),
        (22, 0, 10, TypeError, r"chrom must be a chromosome name \(str\), got 22 \(int\)"),
        (None, 0, 10, TypeError, r"chrom must be a chromosome name \(str\), got None \(NoneType\)"),
        ("chr22\x00", 0, 10, ValueError, r"chrom 'chr22\\x00' contains a NUL"),
        ("chr22", 1.5, 10, TypeError, r"start must be an integer, got 1.5 \(float\)"),
    ],
)
def test_bigwig_values_and_intervals_name_the_bad_argument(bigwig, chrom, start, end, error, match) -> None:
    with pytest.raises(error, match=match) as caught:
        bigwig.values(chrom, start, end)
    no_pybind_dump(caught)
    with pytest.raises(error, match=match):
        bigwig.intervals(chrom, start, end)


@pytest.mark.parametrize("name", ["num_threads", "queue_size"])
@pytest.mark.parametrize(
    "value, error", [(-1, ValueError), (0, ValueError), (2**64, ValueError), ("4", TypeError), (None, TypeError)]
)
def test_loader_counts(collection, name, value, error) -> None:
    with pytest.raises(error, match=name) as caught:
        StreamedDataloader(iter([]), collection, **{name: value})
    no_pybind_dump(caught)


@pytest.mark.parametrize("value, error", [(-1, ValueError), (0, ValueError), (2**64, ValueError), (2.5, TypeError)])
def test_collection_thread_count(value, error) -> None:
    with pytest.raises(error, match="n_threads") as caught:
        BigWigCollection(real_file(ENCODE), n_threads=value)
    no_pybind_dump(caught)


def test_checks_accept_numpy_integers_and_return_python_ints() -> None:
    from bigwig_loader import _arguments

    assert _arguments.coordinate(np.int64(5), "start") == 5
    assert type(_arguments.count(np.uint8(3), "n")) is int
    assert _arguments.coordinates([1, 2**62], "ends").dtype == np.int64
    assert _arguments.coordinates(np.array([], dtype=object), "ends").dtype == np.int64
    # narrow integers widen (always inside the limit); int64 within it is handed on as it is
    widened = _arguments.coordinates(np.array([-5, 7], dtype=np.int32), "starts")
    assert widened.dtype == np.int64 and widened.tolist() == [-5, 7]
    edge = np.array([-(2**62), 2**62], dtype=np.int64)
    assert _arguments.coordinates(edge, "starts") is edge


# --- the datasets' arguments ----------------------------------------------------------------

PHIX_REGIONS = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})


def phix_dataset(cls=BigWigDataset, regions=PHIX_REGIONS, **kwargs):
    options = dict(sequence_length=200, center_bin_to_predict=100, batch_size=8, batches_per_epoch=2, seed=3)
    options.update(n_threads=1, **kwargs)
    return cls(regions, real_file("deeptools/bamCoverage_result4.bw"), real_file("deeptools/phiX.fasta"), **options)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        # Each went through with a message that named no argument, or was accepted without a word.
        ({"jitter": "x"}, TypeError, r"jitter must be an integer, got 'x' \(str\)"),
        ({"jitter": 1.5}, TypeError, r"jitter must be an integer, got 1.5 \(float\)"),
        ({"jitter": -1}, ValueError, r"jitter must be at least 0, got -1"),
        ({"default_value": "x"}, TypeError, r"default_value must be a number, got 'x' \(str\)"),
        ({"default_value": None}, TypeError, r"default_value must be a number, got None \(NoneType\)"),
        ({"seed": -1}, ValueError, r"seed must be at least 0, got -1"),
        ({"seed": "abc"}, TypeError, r"seed must be an integer, got 'abc' \(str\)"),
        ({"seed": 1.5}, TypeError, r"seed must be an integer, got 1.5 \(float\)"),
        ({"sub_sample_tracks": 1.5}, TypeError, r"sub_sample_tracks must be an integer, got 1.5"),
        ({"sub_sample_tracks": 2}, ValueError, r"sub_sample_tracks must be at most 1, got 2"),
        ({"position_sampler_buffer_size": 10.5}, TypeError, r"position_sampler_buffer_size must be an integer"),
        ({"position_sampler_buffer_size": 0}, ValueError, r"position_sampler_buffer_size must be at least 1"),
        ({"strand_pairs": [(0,)]}, TypeError, r"strand_pairs\[0\] must be a pair \(i, j\) of track indices"),
        ({"strand_pairs": [0, 1]}, TypeError, r"strand_pairs\[0\] must be a pair \(i, j\) of track indices"),
        ({"strand_pairs": [(0, 1)]}, ValueError, r"strand_pairs\[0\] \(0, 1\) names a track outside the collection"),
        ({"strand_pairs": [(0, 0)]}, ValueError, r"strand_pairs\[0\] pairs track 0 with itself"),
        ({"strand_pairs": [(0, 0.5)]}, TypeError, r"strand_pairs\[0\] must be an integer, got 0.5"),
        ({"window_size": 30}, ValueError, r"window_size 30 must divide center_bin_to_predict 100"),
        ({"window_size": 1.0}, TypeError, r"window_size must be an integer, got 1.0"),
        ({"super_batch_size": 0}, ValueError, r"super_batch_size must be at least 1, got 0"),
        ({"super_batch_size": 4}, ValueError, r"super_batch_size 4 is smaller than batch_size 8"),
        ({"super_batch_size": 8.0}, TypeError, r"super_batch_size must be an integer"),
        ({"center_bin_to_predict": 0}, ValueError, r"center_bin_to_predict must be at least 1, got 0"),
        ({"batch_size": 2.0}, TypeError, r"batch_size must be an integer, got 2.0"),
    ],
)
def test_dataset_arguments_are_named(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        phix_dataset(**kwargs)


def test_regions_must_be_a_dataframe() -> None:
    with pytest.raises(TypeError, match=r"regions_of_interest must be a pandas DataFrame .* got \[\['phiX174'"):
        phix_dataset(regions=PHIX_REGIONS.values.tolist())


def test_a_track_in_two_strand_pairs_is_refused() -> None:
    """(0, 1), (1, 2) gave track 1 two partners and a flipped window a column permutation that
    swapped neither pair as asked."""
    from bigwig_loader import _dataset_checks

    assert _dataset_checks.check_strand_pairs([(0, 1), [2, np.int64(3)]], 4) == [(0, 1), (2, 3)]
    with pytest.raises(ValueError, match=r"track 1 is in strand_pairs\[0\] and strand_pairs\[1\]"):
        _dataset_checks.check_strand_pairs([(0, 1), (1, 2)], 3)


def test_pytorch_dataset_checks_the_same_arguments() -> None:
    from bigwig_loader import PytorchBigWigDataset

    with pytest.raises(ValueError, match=r"seed must be at least 0, got -1"):
        phix_dataset(PytorchBigWigDataset, seed=-1)


def test_good_dataset_arguments_still_pass() -> None:
    """NaN is a meaningful default_value (the mean of covered bases); numpy scalars are numbers."""
    ds = phix_dataset(default_value=np.nan, seed=np.uint32(7), jitter=np.int64(3), window_size=20, super_batch_size=16)
    assert np.isnan(ds.default_value) and ds.seed == 7 and ds.jitter == 3 and ds.super_batch_size == 16
    assert phix_dataset(default_value=np.float32(2.5), seed=None, super_batch_size=None).super_batch_size == 8
