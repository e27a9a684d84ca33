"""BigWigDataset never waits forever for a window it cannot find: what can be checked is refused
at construction with a ValueError naming the region or argument; what only drawing shows (every
window over the unknown-bases limit) ends the iteration with a ValueError saying why after a
bounded number of fruitless draws; and closing the iteration stops the feeder drawing. Before,
each of these cases waited forever, with the feeder drawing on after close()."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bigwig_loader import BigWigDataset
from conftest import real_file

TRACK = "deeptools/bamCoverage_result4.bw"  # phiX174, 5,386 bases


@pytest.fixture()
def fasta(tmp_path: Path) -> Path:
    """phiX174 as 5,386 bases: the first 3,000 all N, the rest random ACGT."""
    rng = np.random.default_rng(0)
    path = tmp_path / "g.fa"
    path.write_text(">phiX174\n" + "N" * 3_000 + "".join(rng.choice(list("ACGT"), 2_386)) + "\n")
    return path


def dataset(fasta: Path, regions: pd.DataFrame, **kwargs) -> BigWigDataset:
    options = dict(sequence_length=200, batch_size=4, batches_per_epoch=2, seed=0, n_threads=1)
    options.update(kwargs)
    return BigWigDataset(regions, real_file(TRACK), fasta, **options)


def regions(chrom: str, start: int, end: int) -> pd.DataFrame:
    return pd.DataFrame({"chrom": [chrom], "start": [start], "end": [end]})


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.parametrize(
    "region, kwargs, match",
    [
        (("chrUnknown", 0, 1_000), {}, r"region 0 of regions_of_interest is on 'chrUnknown', which .*g.fa lacks"),
        (("phiX174", 10_000, 20_000), {}, r"region 0 .*phiX174:10000-20000.* lies outside phiX174 \(0-5386"),
        (
            ("phiX174", 0, 5_000),
            {"sequence_length": 6_000, "center_bin_to_predict": 100, "window_size": 1},
            r"sequence_length 6000 is longer than the chromosome of every region",
        ),
        (
            ("phiX174", 5_300, 5_386),
            {"sequence_length": 1_000, "center_bin_to_predict": 100},
            r"no window of sequence_length 1000 centred in any region",
        ),
        (
            ("phiX174", 0, 5_000),
            {"maximum_unknown_bases_fraction": -0.1},
            r"maximum_unknown_bases_fraction must be a number in \[0, 1\], got -0.1",
        ),
        (("phiX174", 0, 5_000), {"maximum_unknown_bases_fraction": "0.1"}, r"maximum_unknown_bases_fraction"),
    ],
)
def test_hopeless_arguments_are_refused_at_construction(fasta, region, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        dataset(fasta, regions(*region), **kwargs)


def test_every_window_over_the_unknown_limit_gives_up_saying_why(fasta, monkeypatch) -> None:
    from bigwig_loader import _dataset_checks

    monkeypatch.setattr(_dataset_checks, "FRUITLESS_WINDOW_LIMIT", 5_000)
    monkeypatch.setattr(_dataset_checks.FruitlessDraws.__init__, "__defaults__", (5_000,))
    ds = dataset(fasta, regions("phiX174", 200, 2_800))  # every window lies in the N run
    before = native_threads()  # the collection's own thread pool included
    started = time.monotonic()
    with pytest.raises(
        ValueError,
        match=r"gave up: \d+ windows drawn in a row and none is usable.*"
        r"maximum_unknown_bases_fraction=0.1",
    ):
        next(iter(ds))
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and native_threads() > before:
        time.sleep(0.01)
    assert native_threads() <= before


def test_the_default_limit_is_bounded_and_usable_windows_reset_it() -> None:
    from bigwig_loader import _dataset_checks

    draws = _dataset_checks.FruitlessDraws(200, 0.1, "g.fa")
    assert draws.limit == _dataset_checks.FRUITLESS_WINDOW_LIMIT
    for _ in range(draws.limit // 512):
        draws.record(512, 0)
    draws.record(512, 1)  # one usable window: not fruitless any more
    assert draws.in_a_row == 0
    with pytest.raises(ValueError, match="gave up"):
        for _ in range(draws.limit // 512 + 1):
            draws.record(512, 0)


def test_closing_stops_the_feeder_drawing(fasta, monkeypatch) -> None:
    """The feeder draws in its own thread. After the first batch every draw is made fruitless
    (and the give-up limit out of reach): breaking out of the iteration must still stop it
    drawing. Before, it drew on for ever after the loader was closed."""
    from bigwig_loader import _dataset_checks

    monkeypatch.setattr(_dataset_checks.FruitlessDraws.__init__, "__defaults__", (10**12,))
    ds = dataset(fasta, regions("phiX174", 3_100, 5_300))
    real_fetch = ds.genome.fetch_usable_records
    calls = []

    def fetch_then_nothing(records, starts, length, fraction):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return real_fetch(records, starts, length, fraction)
        return np.empty(0, dtype=np.int64), np.empty((0, length), dtype=np.uint8)

    ds.genome.fetch_usable_records = fetch_then_nothing
    before = native_threads()
    for sequences, values in ds:
        break  # closes the iteration: the loader and its feeder
    n = len(calls)
    time.sleep(0.5)
    assert len(calls) <= n + 1, f"the feeder went on drawing after close ({len(calls) - n} more draws)"
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and native_threads() > before:
        time.sleep(0.01)
    assert native_threads() <= before


def test_usable_regions_next_to_hopeless_ones_still_load(fasta) -> None:
    ds = dataset(fasta, pd.DataFrame({"chrom": ["phiX174"] * 2, "start": [5_300, 3_100], "end": [5_386, 5_000]}))
    sequences, values = next(iter(ds))
    assert sequences.shape == (4, 200, 4)


def test_a_window_on_a_chromosome_no_bigwig_has_raises_the_collections_key_error(tmp_path: Path) -> None:
    """The FASTA has the chromosome, no bigWig file does, and a custom sampler draws there (regions
    on it are refused at construction, test_dataset.py): the batch raises KeyError saying no file
    has it, as get_batch does (the dataset's feeder hands the collection ids, not names)."""
    path = tmp_path / "two.fa"
    rng = np.random.default_rng(1)
    path.write_text("".join(f">{c}\n" + "".join(rng.choice(list("ACGT"), 5_386)) + "\n" for c in ("phiX174", "other")))
    ds = dataset(path, regions("phiX174", 1_000, 4_000), custom_position_sampler=[("other", 2_000)] * 100)
    with pytest.raises(KeyError, match="chromosome 'other' is in none of the 1 files"):
        next(iter(ds))


def test_queue_size_defaults_to_a_batch_for_every_worker_and_at_least_8(fasta) -> None:
    region = regions("phiX174", 3_100, 5_300)
    assert dataset(fasta, region, n_threads=1).queue_size == 8
    assert dataset(fasta, region, n_threads=12).queue_size == 12
    assert dataset(fasta, region, n_threads=6, queue_size=3).queue_size == 3
    with pytest.raises(ValueError, match="n_threads must be at least 1"):
        dataset(fasta, region, n_threads=0)
    with pytest.raises(ValueError, match="queue_size must be at least 1"):  # at construction, not at iteration
        dataset(fasta, region, queue_size=0)
