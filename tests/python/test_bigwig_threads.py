"""One BigWig read from several Python threads at once gives the same results as serial reads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import bigwig_loader
from conftest import real_file


def test_threads_reading_one_file_agree_with_serial_reads() -> None:
    path = real_file("bbi-js/ENCFF826FLP.bw")
    rng = np.random.default_rng(5)
    windows = [(int(s), int(s) + 1_000) for s in rng.integers(16_000_000, 51_000_000, 400)]
    with bigwig_loader.BigWig(path) as bw:
        serial = [bw.values("chr22", s, e) for s, e in windows]
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = list(pool.map(lambda w: bw.values("chr22", *w), windows))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
