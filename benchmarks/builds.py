"""Two builds side by side: this checkout against another build of bigwig-loader (a session's
first commit, installed apart), on the shapes a session's before/after tables quote, each shape
in a process of its own, the two builds alternating shape by shape, round after round (two
builds of one extension module cannot share a process: pybind11 registers each C++ type once).

Build the other one apart, then compare:

    git worktree add /tmp/base_src REV
    .venv/bin/pip install --no-deps --no-build-isolation --target /tmp/base /tmp/base_src
    .venv/bin/python benchmarks/builds.py --other /tmp/base [--rounds 3] [--shapes one-1 warm-16x256]

An editable install of this checkout puts its own import hook in front of PYTHONPATH, so a
child asked for the other build drops that hook before importing (use_build), and checks that
the package it got is the one asked for.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# name: (tracks, windows a batch, corpus over chr22 alone, cache on, timed batches a round,
#        window length, bases a cell)
SHAPES = {
    "one-1": (1, 1, True, True, 20_000, 1_000, 1),
    "one-16": (16, 1, True, True, 5_000, 1_000, 1),
    "one-256": (256, 1, True, True, 300, 1_000, 1),
    "warm-16x256": (16, 256, True, True, 40, 1_000, 1),
    "warm-4x4096": (4, 4096, True, True, 8, 1_000, 1),
    "warm-1x100000": (1, 100_000, True, True, 4, 1_000, 1),
    "warm-enformer-16x8": (16, 8, True, True, 40, 114_688, 128),  # Enformer's window and bins
    "warm-long-16x8": (16, 8, True, True, 10, 114_688, 1),  # Enformer's window, single bases
    "cold-16x4096-cache-off": (16, 4096, False, False, 2, 1_000, 1),
}


def use_build(package_dir: str) -> None:
    """Import bigwig_loader from `package_dir` (a `pip install --target` folder) in this process,
    not from an editable install of the checkout, whose finder would otherwise win."""
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in (type(f).__module__ + repr(f)).lower()]
    sys.path.insert(0, package_dir)
    import bigwig_loader

    where = Path(bigwig_loader.__file__).resolve()
    if Path(package_dir).resolve() not in where.parents:
        raise SystemExit(f"asked for the build in {package_dir}, imported {where}")


def child_output(command: list[str]) -> str:
    """A child's standard output; its standard error shown, and the run stopped, if it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}")
    return done.stdout


def measure(shape: str) -> float:
    """Windows/s of `shape`: the best of 5 rounds of its timed batches, after 2 untimed ones
    (a warm shape draws its windows once: the cache holds their blocks; a cold one draws new
    windows every batch)."""
    sys.path.insert(0, str(HERE))
    import corpus

    import bigwig_loader

    tracks, batch, chr22, cache, n, length, bin_size = SHAPES[shape]
    spec = corpus.TrackSpec(chroms=("chr22",)) if chr22 else corpus.TrackSpec()
    sizes = {c: corpus.HG38_SIZES[c] for c in spec.chroms}
    if not cache and "cache_bytes" not in inspect.signature(bigwig_loader.BigWigCollection).parameters:
        raise SystemExit(f"{shape}: this build has no cache_bytes (a build before the cache reads uncached)")
    collection = bigwig_loader.BigWigCollection(
        corpus.ensure_corpus(tracks, spec), **({} if cache else {"cache_bytes": 0})
    )
    rng = np.random.default_rng(11)

    def draw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        chroms = rng.choice(list(sizes), batch)
        starts = np.array([rng.integers(1_000_000, sizes[c] - 1_000_000) for c in chroms], dtype=np.int64)
        return chroms, starts, starts + length

    batches = [draw()]  # a warm shape's one batch, read again and again
    for b in batches * 2 if cache else [draw(), draw()]:
        collection.get_batch(*b, window_size=bin_size, device="cpu")
    best = float("inf")
    for _ in range(5):
        timed = batches * n if cache else [draw() for _ in range(n)]
        t0 = time.perf_counter()
        for b in timed:
            collection.get_batch(*b, window_size=bin_size, device="cpu")
        best = min(best, (time.perf_counter() - t0) / len(timed))
    return batch / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--other", type=Path, help="the other build's folder (pip install --target)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    ap.add_argument("--child", choices=list(SHAPES), help=argparse.SUPPRESS)
    ap.add_argument("--build", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.build:
            use_build(args.build)
        print(json.dumps(measure(args.child)))
        return
    if args.other is None:
        ap.error("--other is required")
    builds = {"this checkout": "", f"other ({args.other})": str(args.other)}
    speeds: dict[str, dict[str, list[float]]] = {s: {b: [] for b in builds} for s in args.shapes}
    for _ in range(args.rounds):
        for shape in args.shapes:
            for name, folder in reversed(builds.items()):  # the other build first
                out = child_output([sys.executable, __file__, "--child", shape, "--build", folder])
                speeds[shape][name].append(float(out.split()[-1]))
    names = list(builds)
    print(
        f"windows/s, best of 5 rounds in a process, {args.rounds} processes a build (range over them); {os.cpu_count()} CPUs"
    )
    print()
    print(f"| shape | {names[1]} | {names[0]} | ratio of the bests |")
    print("|---|---:|---:|---:|")
    for shape, by in speeds.items():
        cells = [f"{max(by[n]):,.0f} [{min(by[n]):,.0f}-{max(by[n]):,.0f}]" for n in (names[1], names[0])]
        print(f"| {shape} | {cells[0]} | {cells[1]} | {max(by[names[0]]) / max(by[names[1]]):.2f}x |")


if __name__ == "__main__":
    main()
