"""StreamedDataloader: order, errors, slicing, shutdown and leaks."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import bigwig_loader
from bigwig_loader import Batch, BigWigError, StreamedDataloader
from conftest import copy_with_corrupt_data, real_file


@pytest.fixture(scope="module")
def encode() -> bigwig_loader.BigWigCollection:
    return bigwig_loader.BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"), n_threads=1)


def queries(n: int, batch: int = 32, seed: int = 0, length: int = 500):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        starts = rng.integers(16_000_000, 51_000_000, batch)
        yield Batch(["chr22"] * batch, starts, starts + length)


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.parametrize("threads", [1, 8])
def test_batches_come_in_input_order_and_equal_get_batch(encode, threads: int) -> None:
    expected = [np.from_dlpack(encode.get_batch(q.chromosomes, q.starts, q.ends)) for q in queries(20)]
    with StreamedDataloader(queries(20), encode, num_threads=threads, queue_size=3) as loader:
        got = list(loader)
    assert len(got) == 20
    for batch, want, q in zip(got, expected, queries(20)):
        np.testing.assert_array_equal(batch.starts, q.starts)
        np.testing.assert_array_equal(np.asarray(batch.values), want)


def test_tuples_slices_and_options(encode) -> None:
    triples = ((q.chromosomes, q.starts, q.ends) for q in queries(3, batch=40))
    with StreamedDataloader(
        triples, encode, num_threads=2, slice_size=16, window_size=10, default_value=np.nan, dtype="bfloat16"
    ) as loader:
        got = list(loader)
    assert len(got) == 6, "40 windows give two slices of 16; the remainder is dropped"
    # bfloat16 comes as uint16 bit patterns, as get_batch gives it (numpy has no bfloat16).
    assert all(len(b) == 16 and b.values.shape == (16, 50, 1) and b.values.dtype == np.uint16 for b in got)
    q = next(queries(1, batch=40))
    whole = encode.get_batch(q.chromosomes, q.starts, q.ends, window_size=10, default_value=np.nan, dtype="bfloat16")
    np.testing.assert_array_equal(got[1].values, whole[16:32])


def test_returned_values_are_never_overwritten(encode) -> None:
    with StreamedDataloader(queries(30), encode, num_threads=4, queue_size=2) as loader:
        kept = [(np.asarray(b.values), np.asarray(b.values).copy()) for b in loader]
    for view, copy in kept:
        np.testing.assert_array_equal(view, copy)


def test_generator_error_is_raised_in_order_with_its_type(encode) -> None:
    def failing():
        yield from queries(3)
        raise LookupError("the sampler ran dry")

    seen = 0
    with pytest.raises(LookupError, match="ran dry"):
        with StreamedDataloader(failing(), encode, num_threads=2) as loader:
            for _ in loader:
                seen += 1
    assert seen == 3


def test_bad_query_from_the_generator_is_raised(encode) -> None:
    def bad():
        yield Batch(["chrNope"], [0], [10])

    with pytest.raises(KeyError, match="chrNope"):
        list(StreamedDataloader(bad(), encode))


def test_worker_error_is_raised_with_its_type(tmp_path: Path) -> None:
    collection = bigwig_loader.BigWigCollection(copy_with_corrupt_data(tmp_path))
    chrom = collection.chromosomes[0]
    with pytest.raises(BigWigError, match="corrupt data block"):
        list(StreamedDataloader(iter([Batch([chrom], [0], [2_000])]), collection, num_threads=2))


def test_early_break_stops_every_thread_within_a_second(encode) -> None:
    before_py, before_native = threading.active_count(), native_threads()

    def endless():
        while True:
            yield from queries(10)

    for batch in StreamedDataloader(endless(), encode, num_threads=4, queue_size=4):
        break
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and (threading.active_count(), native_threads()) != (before_py, before_native):
        time.sleep(0.01)
    assert threading.active_count() == before_py
    assert native_threads() == before_native


def test_keyboard_interrupt_in_the_consumer_stops_the_loader(encode) -> None:
    before = native_threads()

    def endless():
        while True:
            yield from queries(10)

    with pytest.raises(KeyboardInterrupt):
        with StreamedDataloader(endless(), encode, num_threads=3) as loader:
            for i, _ in enumerate(loader):
                if i == 2:
                    raise KeyboardInterrupt
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and native_threads() != before:
        time.sleep(0.01)
    assert native_threads() == before


def test_thousand_start_stop_cycles_leak_nothing(encode) -> None:
    def counts():
        gc.collect()
        return threading.active_count(), native_threads(), len(os.listdir("/proc/self/fd"))

    def rss_kb() -> int:
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS")).split()[1])

    for _ in range(20):  # warm up allocator pools
        with StreamedDataloader(queries(2, batch=4), encode, num_threads=2, queue_size=2) as loader:
            next(iter(loader))
    before, rss_before = counts(), rss_kb()
    for _ in range(1_000):
        with StreamedDataloader(queries(3, batch=4), encode, num_threads=2, queue_size=2) as loader:
            next(iter(loader))
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and counts() != before:
        time.sleep(0.01)
    assert counts() == before
    assert rss_kb() - rss_before < 50_000, "memory grew by more than 50 MB over 1,000 cycles"


def test_a_finished_loader_starts_again_from_iter_of_its_input(encode) -> None:
    listed = StreamedDataloader(list(queries(2)), encode)  # as in 0.3: a list starts over
    first = [np.asarray(b.values).copy() for b in listed]
    second = [np.asarray(b.values).copy() for b in listed]
    assert len(first) == len(second) == 2 and all(np.array_equal(a, b) for a, b in zip(first, second))
    generated = StreamedDataloader(queries(2), encode)  # a generator, once used up, stays used up
    assert len(list(generated)) == 2 and list(generated) == []


def test_argument_errors(encode) -> None:
    with pytest.raises(ValueError, match="num_threads"):
        StreamedDataloader(queries(1), encode, num_threads=0)
    with pytest.raises(ValueError, match="queue_size"):
        StreamedDataloader(queries(1), encode, queue_size=0)
    with pytest.raises(ValueError, match="dtype"):
        StreamedDataloader(queries(1), encode, dtype="float64")


def wait_for_threads(count: int, seconds: float = 1.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and native_threads() > count:
        time.sleep(0.01)
    return native_threads()


def test_del_mid_iteration_stops_every_thread_within_a_second(encode) -> None:
    before = native_threads()

    def endless():
        while True:
            yield from queries(10)

    loader = StreamedDataloader(endless(), encode, num_threads=4)
    batches = iter(loader)
    next(batches)
    del batches, loader
    gc.collect()
    assert wait_for_threads(before) <= before  # none left running (an earlier test's may end meanwhile)


def test_sigint_while_waiting_raises_keyboard_interrupt_and_stops(encode) -> None:
    import signal

    before = native_threads()

    def slow():
        yield from queries(1)
        while True:
            time.sleep(0.2)
            yield from queries(1)

    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        with StreamedDataloader(slow(), encode, num_threads=3) as loader:
            timer.start()
            for _ in loader:
                pass
    timer.join()
    assert wait_for_threads(before) <= before  # none left running (an earlier test's may end meanwhile)
