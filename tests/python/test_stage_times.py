"""The CPU processor's stage times (benchmarks/threads.py's model reads them): off by default,
and while on, each phase's sums add up (wall and work cover the longest task; one thread's
work is its wall time)."""

from __future__ import annotations

import numpy as np
import pytest

import bigwig_loader
from conftest import real_file

STARTS = np.arange(20_000_000, 24_000_000, 100_000)  # where the file has data (chr22 is N before ~16 Mb)


@pytest.mark.parametrize("threads", [1, 2])
def test_stage_times_add_up(threads: int) -> None:
    collection = bigwig_loader.BigWigCollection([real_file("bbi-js/ENCFF826FLP.bw")] * 3, n_threads=threads)
    processor = collection._processors[-1]
    assert isinstance(processor, bigwig_loader._core.CpuProcessor)
    chroms = [next(iter(collection.chromosomes))] * len(STARTS)
    collection.get_batch(chroms[:2], STARTS[:2], STARTS[:2] + 1_000)
    assert processor.stage_times()["batches"] == 0  # off: nothing summed

    processor.time_stages(True)
    collection.get_batch(chroms, STARTS, STARTS + 1_000)  # cold but for the first two windows' blocks
    collection.get_batch(chroms, STARTS, STARTS + 1_000)  # warm: no decode
    t = processor.stage_times()
    assert t["batches"] == 2
    for phase in ("plan_search", "lookup", "decode", "fill"):
        wall, work, longest = t[f"{phase}_ms"], t[f"{phase}_work_ms"], t[f"{phase}_longest_task_ms"]
        assert 0 < longest <= work and longest <= wall, (phase, t)
        if threads == 1:
            assert work <= wall, (phase, t)
    assert t["plan_ms"] >= t["plan_search_ms"], t  # the searches are part of the plan

    processor.time_stages(False)
    assert processor.stage_times()["batches"] == 0  # reset
