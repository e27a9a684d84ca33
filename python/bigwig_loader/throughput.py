"""How fast ``BigWigCollection.get_batch`` loads windows of the user's own files: the
measurement behind ``bigwig-loader bench`` (and this library's contender in benchmarks/).

Windows are drawn uniformly over the bases of the given regions (a BED file), or of every
chromosome when none are given; every timed batch draws fresh windows, so no batch repeats
another's blocks.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bigwig_loader.collection import BigWigCollection
from bigwig_loader.device import parse_device

DEFAULT_SWEEP = (1, 4, 16, 64, 256, 1024, 4096)
BYTES_PER_VALUE = 4  # float32 output


@dataclass(frozen=True)
class Regions:
    """Where windows may lie: parallel arrays of chromosome, start, end (0-based, half-open)."""

    chroms: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def whole_chromosomes(cls, chrom_sizes: dict[str, int]) -> Regions:
        names = list(chrom_sizes)
        return cls(
            np.asarray(names),
            np.zeros(len(names), dtype=np.int64),
            np.asarray([chrom_sizes[c] for c in names], dtype=np.int64),
        )

    @classmethod
    def from_bed(cls, path: str | Path, known: Sequence[str]) -> Regions:
        """The first three columns of a BED file; header, track and comment lines are skipped.
        ValueError naming the file and line for a malformed line, an unknown chromosome or an
        empty file."""
        chroms, starts, ends = [], [], []
        known_set = set(known)
        with open(path) as f:
            for number, line in enumerate(f, start=1):
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                fields = line.split()
                try:
                    chrom, start, end = fields[0], int(fields[1]), int(fields[2])
                except (IndexError, ValueError):
                    raise ValueError(
                        f"{path}, line {number}: expected 'chrom start end', got {line.strip()!r}"
                    ) from None
                if start < 0 or end <= start:
                    raise ValueError(f"{path}, line {number}: empty or negative region {chrom}:{start}-{end}")
                if chrom not in known_set:
                    raise ValueError(f"{path}, line {number}: chromosome {chrom!r} is in none of the bigWig files")
                chroms.append(chrom)
                starts.append(start)
                ends.append(end)
        if not chroms:
            raise ValueError(f"{path}: no regions")
        return cls(np.asarray(chroms), np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64))

    def draw(self, n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n windows of `length` bases whose centres are uniform over the regions' bases."""
        sizes = self.ends - self.starts
        picks = rng.choice(len(sizes), size=n, p=sizes / sizes.sum())
        centres = self.starts[picks] + (rng.random(n) * sizes[picks]).astype(np.int64)
        starts = np.maximum(centres - length // 2, 0)
        return self.chroms[picks], starts, starts + length


def check_device(device: str) -> None:
    """ValueError unless `device` is "cpu", "cuda" or "cuda:N" (whether it can be used is asked
    when it is used)."""
    parse_device(device)


def _nothing_to_wait_for() -> None:
    """A CPU batch is complete when get_batch returns."""


def batch_loader(
    collection: BigWigCollection, *, window_size: int = 1, device: str = "cpu", default_value: float = 0.0
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], Any]:
    """get_batch with these settings, returning only when the values are ready. Where get_batch
    takes ``device=`` it is always passed, "cpu" included (so that a default that picks a GPU
    never turns a CPU measurement into a GPU one); where it does not, a device other than "cpu"
    is a ValueError."""
    check_device(device)
    kwargs: dict[str, Any] = {"window_size": window_size, "default_value": default_value}
    synchronize: Callable[[], None] = _nothing_to_wait_for
    if "device" in inspect.signature(collection.get_batch).parameters:
        kwargs["device"] = device
    elif device != "cpu":
        raise ValueError(
            f"device {device!r}: this build of bigwig-loader reads on the CPU only "
            "(BigWigCollection.get_batch takes no device argument)"
        )
    if device != "cpu":
        import torch  # a CUDA batch is asynchronous: time it to completion

        synchronize = torch.cuda.synchronize

    def load(chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Any:
        out = collection.get_batch(chroms, starts, ends, **kwargs)
        synchronize()
        return out

    return load


@dataclass(frozen=True)
class Measurement:
    batch_size: int
    length: int
    tracks: int
    batches: int
    seconds: list[float]  # one per timed batch

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def windows_per_second(self) -> float:
        return self.batch_size / self.median_seconds

    def megabytes_per_second(self, window_size: int = 1) -> float:
        """float32 values delivered per second, in MB (10^6 bytes)."""
        out_bytes = self.batch_size * (self.length // window_size) * self.tracks * BYTES_PER_VALUE
        return out_bytes / self.median_seconds / 1e6


def measure(
    load: Callable[..., Any],
    regions: Regions,
    *,
    batch_size: int,
    length: int,
    tracks: int,
    batches: int,
    max_seconds: float,
    rng: np.random.Generator,
    on_batch: Callable[[], None] | None = None,
) -> Measurement:
    """Times `load` on fresh random batches after one untimed warm-up batch: `batches` of them,
    or fewer when `max_seconds` run out first (at least one is always timed)."""
    load(*regions.draw(batch_size, length, rng))
    seconds: list[float] = []
    started = time.perf_counter()
    while len(seconds) < batches and (not seconds or time.perf_counter() - started < max_seconds):
        windows = regions.draw(batch_size, length, rng)
        t0 = time.perf_counter()
        load(*windows)
        seconds.append(time.perf_counter() - t0)
        if on_batch is not None:
            on_batch()
    return Measurement(batch_size, length, tracks, len(seconds), seconds)


def plot_sweep(series: dict[str, Sequence[tuple[int, float]]], out: str | Path, title: str) -> None:
    """A log-log PNG of windows/s against batch size, one line per name in `series` (each a list
    of (batch size, windows/s)). ImportError with the install command when matplotlib is missing."""
    matplotlib = require_matplotlib()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for name, points in series.items():
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size (windows)")
    ax.set_ylabel("windows / s")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def require_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "drawing a plot needs matplotlib: pip install matplotlib (or pip install 'bigwig-loader[bench]')"
        ) from None
    return matplotlib
