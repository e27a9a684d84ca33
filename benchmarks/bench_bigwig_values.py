"""BigWig.values() against pyBigWig and pybigtools on the same random 1 kb windows of one file.

Every contender reads identical windows in one process, interleaved round by round; each one's
output is checked against pyBigWig first, so a fast wrong answer is reported as wrong.

Two cases:
- random: windows drawn uniformly; on a small file they share blocks, and pybigtools serves
  repeats from its cache of inflated blocks (bigwig_loader and pyBigWig keep no such cache);
- disjoint: windows 120 kb apart, each contender opened afresh every round, so every window
  costs a real fetch + inflate + decode: the cost a training loader pays on large genomes.

    .venv/bin/python benchmarks/bench_bigwig_values.py [--file F] [--windows N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

import bigwig_loader

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "bbi-js" / "ENCFF826FLP.bw"

Reader = Callable[[str, int, int], np.ndarray]


def open_contenders(path: Path) -> dict[str, Reader]:
    import pyBigWig
    import pybigtools

    ours = bigwig_loader.BigWig(path)
    pbw = pyBigWig.open(str(path))
    pbt = pybigtools.open(str(path))
    return {
        "bigwig_loader.BigWig.values": lambda c, s, e: ours.values(c, s, e),
        "pyBigWig values(numpy=True)": lambda c, s, e: pbw.values(c, s, e, numpy=True),
        "pybigtools values": lambda c, s, e: pbt.values(c, s, e, fillna=np.nan),
    }


def random_windows(path: Path, n: int, length: int, seed: int) -> list[tuple[str, int, int]]:
    """Windows uniform over the covered part of each chromosome (ENCODE chr22 starts ~16 Mb)."""
    rng = np.random.default_rng(seed)
    with bigwig_loader.BigWig(path) as bw:
        chroms = []
        for chrom, size in bw.chroms.items():
            starts, ends, _ = bw.intervals(chrom)
            if len(starts):
                chroms.append((chrom, int(starts[0]), min(size, int(ends[-1])) - length))
    picks = rng.integers(0, len(chroms), n)
    return [(chroms[i][0], s := int(rng.integers(chroms[i][1], chroms[i][2])), s + length) for i in picks]


def check(name: str, read: Reader, windows: list[tuple[str, int, int]], oracle: Reader) -> bool:
    for c, s, e in windows[:200]:
        got = np.asarray(read(c, s, e), dtype=np.float32)
        want = np.asarray(oracle(c, s, e), dtype=np.float32)
        if not np.array_equal(got, want, equal_nan=True):
            print(f"  WRONG: {name} differs from pyBigWig at {c}:{s}-{e}")
            return False
    return True


def disjoint_windows(path: Path, length: int, spacing: int = 120_000) -> list[tuple[str, int, int]]:
    with bigwig_loader.BigWig(path) as bw:
        out = []
        for chrom, size in bw.chroms.items():
            starts, ends, _ = bw.intervals(chrom)
            if len(starts):
                out += [(chrom, int(s), int(s) + length) for s in range(int(starts[0]), int(ends[-1]) - length, spacing)]
    return out


def time_once(read: Reader, windows: list[tuple[str, int, int]]) -> float:
    t0 = time.perf_counter()
    for c, s, e in windows:
        read(c, s, e)
    return time.perf_counter() - t0


def run_case(title: str, path: Path, windows: list[tuple[str, int, int]], rounds: int, fresh: bool) -> None:
    readers = open_contenders(path)
    oracle = readers["pyBigWig values(numpy=True)"]
    correct = {name: check(name, read, windows, oracle) for name, read in readers.items()}
    times: dict[str, list[float]] = {name: [] for name in readers}
    times["bigwig_loader.BigWig.values, 2 threads"] = []
    correct["bigwig_loader.BigWig.values, 2 threads"] = correct["bigwig_loader.BigWig.values"]
    halves = [windows[0::2], windows[1::2]]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(rounds):  # interleaved: every contender once per round
            if fresh:
                readers = open_contenders(path)
            for name, read in readers.items():
                times[name].append(time_once(read, windows))
            # The same reader from 2 threads: BigWig releases the GIL while it reads and decodes.
            ours = open_contenders(path)["bigwig_loader.BigWig.values"] if fresh else readers["bigwig_loader.BigWig.values"]
            t0 = time.perf_counter()
            list(pool.map(lambda ws: time_once(ours, ws), halves))
            times["bigwig_loader.BigWig.values, 2 threads"].append(time.perf_counter() - t0)

    base = statistics.median(times["pyBigWig values(numpy=True)"])
    print(f"### {title}: {len(windows)} windows of {windows[0][2] - windows[0][1]} bp, median of {rounds} interleaved rounds")
    print()
    print("| reader | windows/s | vs pyBigWig | output |")
    print("|---|---:|---:|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {len(windows) / med:,.0f} | {base / med:.2f}x | {'same as pyBigWig' if correct[name] else 'WRONG'} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--windows", type=int, default=5000)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    print(f"file: {args.file.name}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"bigwig-loader {bigwig_loader.__version__} (inflate: {bigwig_loader.inflate_backend})")
    print()
    run_case("random", args.file, random_windows(args.file, args.windows, args.length, args.seed), args.rounds, fresh=False)
    run_case("disjoint", args.file, disjoint_windows(args.file, args.length), args.rounds, fresh=True)


if __name__ == "__main__":
    main()
