"""Thread scaling of the CPU backend: measured from 1 thread to the machine's CPUs, modelled beyond.

For each thread count (each in a process of its own), batches of a few shapes are timed, and the
CPU processor's stage times (CpuProcessor.time_stages) say where each batch's time went:

  serial   everything outside the parallel phases: the Python call, the plan but its file
           checks and block searches, the output's allocation (the calling thread alone)
  search   the plan's file checks and block searches (parallel over shares of the files and
           runs of columns in batches of at least 2,048 columns or 64 files; one task below),
           and where the keys of several files are then sorted, each file's sort and numbering
           (a task a file; at one thread they are serial)
  lookup   phase 0: the cache lookups (parallel over ranges of the planned blocks where there
           are at least 1,024; one task below)
  decode   phase 1: fetch, inflate and decode of the blocks the cache does not hold (parallel
           over tasks of up to 8 blocks of one file)
  fill     phase 2: the output's cells (parallel over windows x slices of tracks; small fills
           run on the calling thread alone)

The model, from the 1-thread run: T(n) = serial + the sum over the parallel phases of their
critical paths: max(work / n, longest task) for decode, whose tasks are fixed (up to 8 blocks of
one file), and work / n for search, lookup and fill, whose tasks are cut by the thread count (4,
2 and 8 a thread): their longest task at one thread is a piece of the phase a larger pool cuts
finer (unless the batch is small enough to run the phase as one task). It ignores memory bandwidth and the pool's dispatch (a few
microseconds a phase), so it is an upper bound on the speed-up; its error at the thread counts
measured here says how far to trust it at 16 and 64.

    .venv/bin/python benchmarks/threads.py [--threads 1 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SHAPES = [
    # name, tracks, batch, window length, bin, cache on
    ("1 kb x 16 tracks, batch 256, cold", 16, 256, 1_000, 1, False),
    ("1 kb x 16 tracks, batch 256, warm", 16, 256, 1_000, 1, True),
    ("1 kb x 16 tracks, batch 16, cold", 16, 16, 1_000, 1, False),
    ("114,688 bp / 128 bp bins x 16 tracks, batch 8, cold", 16, 8, 114_688, 128, False),
]


def measure(threads: int, rounds: int) -> list[dict]:
    """In the child: each shape's best wall time per batch and its stage times per batch."""
    import bigwig_loader
    import corpus

    paths = corpus.ensure_corpus(16)
    sizes = {c: corpus.HG38_SIZES[c] for c in corpus.TrackSpec().chroms}
    out = []
    for name, tracks, batch, length, bin_size, cache in SHAPES:
        collection = bigwig_loader.BigWigCollection(paths[:tracks], n_threads=threads, cache_bytes=None if cache else 0)
        processor = collection._processors[-1]
        rng = np.random.default_rng(7)

        def draw():
            chroms = rng.choice(list(sizes), batch)
            starts = np.array([rng.integers(0, sizes[c] - length) for c in chroms])
            return chroms, starts, starts + length

        # Cold shapes read fresh windows each batch; warm ones the same few batches again.
        n_batches = max(2, 2048 // batch) if length < 10_000 else 4
        warm_batches = [draw() for _ in range(n_batches)]
        for b in warm_batches:
            collection.get_batch(*b, window_size=bin_size)  # untimed: output memory, and the warm cache
        best = None
        for _ in range(rounds):
            batches = warm_batches if cache else [draw() for _ in range(n_batches)]
            processor.time_stages(True)
            t = time.perf_counter()
            for b in batches:
                collection.get_batch(*b, window_size=bin_size)
            wall = (time.perf_counter() - t) / n_batches * 1e3
            stages = {k: v / n_batches for k, v in processor.stage_times().items() if k != "batches"}
            processor.time_stages(False)
            if best is None or wall < best["wall_ms"]:
                best = {"wall_ms": wall, **stages}
        best["serial_ms"] = wall_ms_outside(best)
        out.append({"shape": name, "threads": threads, "batch": batch, **best})
    return out


PHASES = ("plan_search", "lookup", "decode", "fill")
CUT_BY_THREADS = ("plan_search", "lookup", "fill")  # tasks per thread fixed: more threads, smaller tasks


def wall_ms_outside(r: dict) -> float:
    """A batch's milliseconds outside its parallel phases: the serial part."""
    return r["wall_ms"] - sum(r[f"{p}_ms"] for p in PHASES)


def model(one: dict, n: int) -> float:
    """Predicted milliseconds per batch on n threads, from the 1-thread measurement."""

    def critical_path(p: str) -> float:
        work, longest = one[f"{p}_work_ms"], one[f"{p}_longest_task_ms"]
        several_tasks = longest < work * 0.99  # a small batch runs the phase as one task
        return work / n if p in CUT_BY_THREADS and several_tasks else max(work / n, longest)

    return one["serial_ms"] + sum(critical_path(p) for p in PHASES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=list(range(1, (os.cpu_count() or 1) + 1)))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.rounds)))
        return
    import corpus

    corpus.ensure_corpus(16)
    runs = {}
    for n in sorted(set([1] + args.threads)):
        command = [sys.executable, __file__, "--child", str(n), "--rounds", str(args.rounds)]
        runs[n] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    print(
        f"CPUs: {os.cpu_count()}; best of {args.rounds} rounds; ms per batch (windows/s); stage times per batch "
        "from CpuProcessor.stage_times\n"
    )
    print(
        "| shape | threads | measured ms (windows/s) | speed-up | serial ms | search wall / work / longest ms | "
        "lookup wall / work / longest ms | decode wall / work / longest ms | fill wall / work / longest ms | "
        "model ms |"
    )
    print("|---|---:|---:|---:|---:|---|---|---|---|---:|")
    for i, (name, *_rest) in enumerate(SHAPES):
        one = runs[1][i]
        for n, results in runs.items():
            r = results[i]
            print(
                f"| {name} | {n} | {r['wall_ms']:.2f} ({r['batch'] / r['wall_ms'] * 1e3:,.0f}) | "
                f"{one['wall_ms'] / r['wall_ms']:.2f}x | {r['serial_ms']:.2f} | "
                + "".join(
                    f"{r[f'{p}_ms']:.2f} / {r[f'{p}_work_ms']:.2f} / {r[f'{p}_longest_task_ms']:.2f} | " for p in PHASES
                )
                + f"{model(one, n):.2f} |"
            )
    print("\nModelled from the 1-thread run (ms per batch, windows/s, speed-up over 1 thread, serial fraction):\n")
    print("| shape | serial fraction at 1 thread | 16 threads | 64 threads |")
    print("|---|---:|---:|---:|")
    for i, (name, *_rest) in enumerate(SHAPES):
        one = runs[1][i]
        cells = []
        for n in (16, 64):
            t = model(one, n)
            cells.append(f"{t:.2f} ms ({one['batch'] / t * 1e3:,.0f}/s, {one['wall_ms'] / t:.1f}x)")
        print(f"| {name} | {one['serial_ms'] / one['wall_ms']:.1%} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
