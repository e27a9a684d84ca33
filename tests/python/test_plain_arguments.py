"""get_batch's usual arguments read in C++ (BatchProcessor.load_plain, plain_arguments.hpp): where
it accepts the arguments, its batch is the one the Python path (batch_request, then load) makes,
bit for bit; where an argument is of any other type it declines (None) and get_batch's Python path
converts it or names it in an error, as before."""

from __future__ import annotations

import numpy as np
import pytest

import bigwig_loader
from bigwig_loader.device import resolve_device


@pytest.fixture(scope="module")
def collection(collection_dir) -> bigwig_loader.BigWigCollection:
    return bigwig_loader.BigWigCollection(collection_dir, scale={"a": 2.0})


def plain(c: bigwig_loader.BigWigCollection, *args, scale: bool = True):
    processor = c.processor(resolve_device("cpu"))
    return processor.load_plain(c._collection, *args, c._every_track, c._scales_of_every_track(scale))


def python_path(c: bigwig_loader.BigWigCollection, *args, scale: bool = True) -> np.ndarray:
    processor = c.processor(resolve_device("cpu"))
    return np.asarray(processor.load(c._collection, c.batch_request(*args, scale=scale), None))


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def windows(n: int, seed: int) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    names = rng.choice(["chr1", "chr2", "chrX", "contig_7"], n).tolist()
    return names, rng.integers(-2_000, 60_000, n).tolist()


@pytest.mark.parametrize("n", [1, 3, 64, 65, 300])  # 65 and up: the names looked up without the GIL
@pytest.mark.parametrize("form", ["lists", "tuples", "arrays"])
def test_accepted_arguments_give_the_python_paths_batch(collection, n: int, form: str) -> None:
    names, starts = windows(n, seed=n)
    length = 777
    ends = [s + length for s in starts]
    if form == "tuples":
        args = (tuple(names), tuple(starts), tuple(ends))
    elif form == "arrays":
        args = (np.array(names), np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64))
    else:
        args = (names, starts, ends)
    for window_size, default in [(1, 0.0), (1, float("nan")), (7, -1.5), (7, 3), (length, float("inf")), (2, 1e300)]:
        for scale in (True, False):
            got = plain(collection, *args, window_size, default, scale=scale)
            assert got is not None, (form, window_size, default)
            want = python_path(collection, *args, window_size, default, scale=scale)
            assert same_bits(np.asarray(got), want), (form, n, window_size, default, scale)


@pytest.mark.parametrize(
    "starts, ends, window_size",
    [
        ([2**62 - 10], [2**62], 1),  # the engine's upper limit
        ([-(2**62)], [-(2**62) + 10], 1),  # its lower limit
        (np.array([-(2**62)], dtype=np.int64), np.array([-(2**62) + 10], dtype=np.int64), 10),
        ([100], [100 + 2**32 - 1], 2**32 - 1),  # the largest window size, one cell
    ],
)
def test_arguments_at_their_limits_are_accepted(collection, starts, ends, window_size) -> None:
    got = plain(collection, ["chr1"], starts, ends, window_size, 0.0)
    assert got is not None
    assert same_bits(np.asarray(got), python_path(collection, ["chr1"], starts, ends, window_size, 0.0))


class _Name(str):
    pass


big_endian = np.array([100], dtype=">i8")
non_contiguous = np.array([100, 0, 200], dtype=np.int64)[::2]


@pytest.mark.parametrize(
    "chroms, starts, ends, window_size, default",
    [
        (np.array(["chr1"], dtype=object), [100], [200], 1, 0.0),  # an object array of names
        (["chr1", 7], [100, 100], [200, 200], 1, 0.0),  # a name that is not a str
        (["chr\u00e9"], [100], [200], 1, 0.0),  # not ASCII
        (np.array(["chr\u00e9"]), [100], [200], 1, 0.0),
        (["chrZ"], [100], [200], 1, 0.0),  # no file has it
        (["chr1\x00"], [100], [200], 1, 0.0),
        ("chr1", [100], [200], 1, 0.0),  # a bare str
        (np.array([["chr1"]]), [100], [200], 1, 0.0),  # 2-d
        (["chr1"], np.array([100], dtype=np.int32), [200], 1, 0.0),  # int32: Python widens it
        (["chr1"], big_endian, [200], 1, 0.0),
        (["chr1", "chr1"], non_contiguous, [200, 300], 1, 0.0),
        (["chr1"], np.array([[100]], dtype=np.int64), [200], 1, 0.0),
        (["chr1"], [np.int64(100)], [200], 1, 0.0),  # a numpy integer in a list
        (["chr1"], [100.0], [200], 1, 0.0),  # a float
        (["chr1"], [True], [200], 1, 0.0),  # a bool
        ([_Name("chr1")], [100], [200], 1, 0.0),  # a str subclass
        ([np.str_("chr1")], [100], [200], 1, 0.0),  # numpy's str
        (np.array(["chr1"], dtype=">U4"), [100], [200], 1, 0.0),  # big-endian UCS4
        (np.array(["chr1", "chr2", "chr1"])[::2], [100, 100], [200, 200], 1, 0.0),  # not contiguous
        (["chr1"], [100], np.array([200], dtype=np.uint64), 1, 0.0),  # uint64: Python checks it
        (["chr1"], [2**62 + 1], [2**62 + 5], 1, 0.0),  # past the engine's limit
        (["chr1"], [-(2**62) - 1], [-(2**62) + 5], 1, 0.0),
        (["chr1"], [2**70], [2**70 + 5], 1, 0.0),  # past int64
        (["chr1"], np.ma.masked_array([100], mask=[False]), [200], 1, 0.0),  # an ndarray subclass
        (["chr1"], [100], [200], True, 0.0),  # a bool window size
        (["chr1"], [100], [200], np.int64(1), 0.0),  # a numpy integer window size
        (["chr1"], [100], [200], 0, 0.0),  # out of range
        (["chr1"], [100], [200], 2**32, 0.0),
        (["chr1"], [100], [200], 1.0, 0.0),
        (["chr1"], [100], [200], 1, True),  # a bool default
        (["chr1"], [100], [200], 1, np.float32(1.5)),  # a numpy float default
        (["chr1"], [100], [200], 1, "0"),
        (["chr1"], [100], [200], 1, 2**1100),  # too large for a float
    ],
)
def test_other_types_are_declined(collection, chroms, starts, ends, window_size, default) -> None:
    assert plain(collection, chroms, starts, ends, window_size, default) is None


def test_declined_arguments_still_convert_or_fail_as_before(collection) -> None:
    """get_batch over the arguments load_plain declines: the Python path's batch or error."""
    want = collection.get_batch(["chr1"], [100], [200])
    for starts in (np.array([100], dtype=np.int32), big_endian, [np.int64(100)], np.ma.masked_array([100])):
        assert same_bits(collection.get_batch(["chr1"], starts, [200]), want)
    assert same_bits(collection.get_batch(["chr1"], [100], [200], window_size=np.int64(1)), want)
    assert same_bits(collection.get_batch(np.array(["chr1"], dtype=object), [100], [200]), want)
    with pytest.raises(TypeError, match="default_value"):
        collection.get_batch(["chr1"], [100], [200], default_value=True)
    with pytest.raises(KeyError, match="chrZ"):
        collection.get_batch(["chrZ"], [100], [200])
    with pytest.raises(ValueError, match=r"start\[0\]"):
        collection.get_batch(["chr1"], [2**62 + 1], [2**62 + 5])
    with pytest.raises(TypeError, match="window_size"):
        collection.get_batch(["chr1"], [100], [200], window_size=True)


@pytest.mark.parametrize(
    "starts, ends",
    [
        ([100, 100], [200, 300]),  # unequal lengths
        ([100], [100]),  # empty window
        ([300], [200]),  # end before start
        ([100, 200], [200]),  # counts differ
        ([], []),  # no windows
    ],
)
def test_the_windows_check_raises_the_same_error_either_way(collection, starts, ends) -> None:
    """The windows are checked by the core whichever path read them: the same type and message."""
    chroms = ["chr1"] * len(starts)
    with pytest.raises(Exception) as fast:
        result = plain(collection, chroms, starts, ends, 1, 0.0)
        if result is None:  # declined: nothing to compare
            raise LookupError("declined")
    with pytest.raises(Exception) as slow:
        python_path(collection, chroms, starts, ends)
    if fast.type is not LookupError:
        assert (fast.type, str(fast.value)) == (slow.type, str(slow.value))
    with pytest.raises(slow.type, match=None) as through_get_batch:
        collection.get_batch(chroms, starts, ends)
    assert str(through_get_batch.value) == str(slow.value)


def test_the_plain_path_returns_the_numpy_array_get_batch_hands_out(collection) -> None:
    got = plain(collection, ["chr1", "chr2"], [100, 5_000], [300, 5_200], 1, 0.0)
    # Made in C++ as numpy.asarray would make it from the Tensor: writable, C-contiguous, no copy.
    assert type(got) is np.ndarray and got.dtype == np.float32 and got.shape == (2, 200, 3)
    assert got.flags["C_CONTIGUOUS"] and got.flags["WRITEABLE"] and got.flags["OWNDATA"] is False
    assert isinstance(got.base, bigwig_loader.Tensor) and got.base.shape == got.shape
    assert np.asarray(got.base).__array_interface__["data"][0] == got.__array_interface__["data"][0]
    want = python_path(collection, ["chr1", "chr2"], [100, 5_000], [300, 5_200], 1, 0.0)
    assert same_bits(got, want)
    through_get_batch = collection.get_batch(["chr1", "chr2"], [100, 5_000], [300, 5_200])
    assert type(through_get_batch) is np.ndarray and same_bits(through_get_batch, want)


class _Spy:
    def __init__(self, processor) -> None:
        self.processor, self.calls = processor, []

    def load_plain(self, *args):
        self.calls.append("load_plain")
        return self.processor.load_plain(*args)

    def load(self, *args):
        self.calls.append("load")
        return self.processor.load(*args)


def test_get_batch_takes_the_plain_path_only_for_its_case(collection, monkeypatch) -> None:
    spy = _Spy(collection.processor(resolve_device("cpu")))
    monkeypatch.setattr(collection, "processor", lambda ordinal: spy)
    collection.get_batch(["chr1"], [100], [200])
    assert spy.calls == ["load_plain"]
    spy.calls.clear()
    collection.get_batch(["chr1"], [100], [200], track_indices=[1, 0])
    collection.get_batch(["chr1"], [100], [200], dtype="bfloat16")
    collection.get_batch(["chr1"], [100], [200], out=np.empty((1, 100, 3), dtype=np.float32))
    assert spy.calls == ["load", "load", "load"]
    spy.calls.clear()
    collection.get_batch(["chr1"], [np.int64(100)], [200])  # declined, then the Python path
    assert spy.calls == ["load_plain", "load"]
