"""StreamedDataloader.close() from several threads at once (documented as allowed), and while
another thread breaks out of iterating it: every call returns, and every thread stops. Before,
both callers joined the same worker threads and hung."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from bigwig_loader import Batch, BigWigCollection, StreamedDataloader
from conftest import real_file


@pytest.fixture(scope="module")
def encode() -> BigWigCollection:
    return BigWigCollection(real_file("bbi-js/ENCFF826FLP.bw"), n_threads=1)


def endless():
    rng = np.random.default_rng(0)
    while True:
        starts = rng.integers(16_000_000, 51_000_000, 16)
        yield Batch(["chr22"] * 16, starts, starts + 500)


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def wait_for_threads(before: int) -> int:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and native_threads() > before:
        time.sleep(0.01)
    return native_threads()


def run_all(functions, timeout: float = 20.0) -> None:
    """Runs each function in its own thread; fails (instead of hanging the suite) when any has
    not returned within `timeout`."""
    errors: list[BaseException] = []

    def guarded(f):
        try:
            f()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(f,), daemon=True) for f in functions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "close() did not return"
    assert not errors, errors


def test_close_from_many_threads_at_once(encode) -> None:
    before = native_threads()
    for _ in range(20):
        loader = StreamedDataloader(endless(), encode, num_threads=4, queue_size=4)
        iterator = iter(loader)
        next(iterator)
        barrier = threading.Barrier(4)

        def close():
            barrier.wait()
            loader.close()

        run_all([close] * 4)
        with pytest.raises(RuntimeError, match="closed"):
            next(iterator)
    assert wait_for_threads(before) <= before  # none left running (an earlier test's may end meanwhile)


def test_close_while_another_thread_breaks_out_of_iterating(encode) -> None:
    before = native_threads()
    for _ in range(20):
        loader = StreamedDataloader(endless(), encode, num_threads=3, queue_size=2)
        started = threading.Event()

        def consume():
            try:
                for i, _ in enumerate(loader):
                    started.set()
                    if i == 3:
                        break  # the generator's finally closes the loader
            except RuntimeError as e:  # the other threads closed it first: documented, not a hang
                assert "closed" in str(e)

        def close():
            started.wait(10)
            loader.close()

        run_all([consume, close, close])
    assert wait_for_threads(before) <= before  # none left running (an earlier test's may end meanwhile)
