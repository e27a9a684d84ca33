"""BigWigCollection.get_batch against pyBigWig and pybigtools looping over windows, and against
the inflate floor (libdeflate inflating exactly the unique blocks each batch needs, on the same
threads).

pybigtools keeps a cache of inflated blocks per open file; over many batches on these 97 Mb
tracks (about 1,400 blocks each) later batches find many blocks in it. bigwig_loader keeps no
cache: every batch reads and inflates its blocks.

Case (issue 3): batches of 256 random 1 kb windows x 16 ENCODE-like tracks (corpus.py: UCSC
layout, about 1,024 items per zlib block, hg38 chr21 + chr22). Every contender reads identical
windows in one process; each one's first batch is checked against pyBigWig, so a fast wrong
answer is reported as wrong.

    .venv/bin/python benchmarks/bench_collection_batch.py [--tracks 16] [--batch 256] [--batches 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import bigwig_loader
import corpus


def windows(chrom_sizes: dict[str, int], n: int, length: int, rng: np.random.Generator):
    names = list(chrom_sizes)
    chroms = [names[i] for i in rng.integers(0, len(names), n)]
    starts = np.array([rng.integers(0, chrom_sizes[c] - length) for c in chroms], dtype=np.int64)
    return chroms, starts, starts + length


def loop_reader(open_file, read, paths):
    """A contender that loops over windows and tracks in Python, as users do today, with every
    file opened once beforehand."""
    handles = [open_file(str(p)) for p in paths]

    def run(chroms, starts, ends):
        out = np.empty((len(starts), ends[0] - starts[0], len(paths)), dtype=np.float32)
        for k, h in enumerate(handles):
            for w, (c, s, e) in enumerate(zip(chroms, starts, ends)):
                out[w, :, k] = read(h, c, int(s), int(e))
        return out
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--batches", type=int, default=21, help="batches (the first checks correctness; the rest are timed)")
    ap.add_argument("--slow-batches", type=int, default=1, help="batches timed for pyBigWig")
    ap.add_argument("--threads", type=int, default=None, help="bigwig-loader threads (default: all CPUs)")
    args = ap.parse_args()

    import pyBigWig
    import pybigtools

    paths = corpus.ensure_corpus(args.tracks)
    collection = bigwig_loader.BigWigCollection(paths, n_threads=args.threads)
    rng = np.random.default_rng(0)
    batches = [windows(collection.chrom_sizes, args.batch, args.length, rng) for _ in range(args.batches)]

    def ours(chroms, starts, ends):
        return np.from_dlpack(collection.get_batch(chroms, starts, ends, default_value=np.nan))

    contenders = {
        "bigwig_loader get_batch": ours,
        "pybigtools loop": loop_reader(pybigtools.open, lambda h, *w: h.values(*w, fillna=np.nan), paths),
        "pyBigWig loop": loop_reader(pyBigWig.open, lambda h, *w: h.values(*w, numpy=True), paths),
    }
    oracle = contenders["pyBigWig loop"](*batches[0])
    correct = {name: np.array_equal(run(*batches[0]), oracle, equal_nan=True) for name, run in contenders.items()}

    times: dict[str, list[float]] = {name: [] for name in contenders}
    for i, batch in enumerate(batches[1:], start=1):  # interleaved, batch by batch; batch 0 was the check
        for name, run in contenders.items():
            if name == "pyBigWig loop" and i > args.slow_batches:
                continue
            t0 = time.perf_counter()
            run(*batch)
            times[name].append(time.perf_counter() - t0)

    floor = [
        collection._backend.inflate_floor(
            collection._collection, collection._chromosome_ids(c), s, args.length, np.arange(len(paths), dtype=np.uint32), 5
        )
        for c, s, _ in batches
    ]
    floor_seconds = statistics.median(f["seconds"] for f in floor)

    windows_per_batch = args.batch
    print(f"corpus: {args.tracks} tracks, {corpus.DEFAULT_CHROMS}, mean run 50 bp, UCSC layout (pybigtools writer)")
    print(f"batch: {args.batch} random windows of {args.length} bp x {args.tracks} tracks; "
          f"{args.batches} batches ({args.slow_batches} for pyBigWig); median per batch")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"bigwig-loader {bigwig_loader.__version__} on {collection.n_threads} threads, inflate: {bigwig_loader.inflate_backend}")
    blocks = statistics.median(f["blocks"] for f in floor)
    inflated = statistics.median(f["inflated_bytes"] for f in floor)
    print(f"unique blocks per batch: {blocks:.0f} ({inflated / 1e6:.1f} MB inflated)")
    print()
    print("| contender | ms / batch | windows/s | vs pyBigWig | output |")
    print("|---|---:|---:|---:|---|")
    base = statistics.median(times["pyBigWig loop"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med * 1e3:,.1f} | {windows_per_batch / med:,.0f} | {base / med:,.1f}x | "
              f"{'same as pyBigWig' if correct[name] else 'WRONG'} |")
    ours_med = statistics.median(times["bigwig_loader get_batch"])
    print(f"| inflate floor (libdeflate, unique blocks only, from memory) | {floor_seconds * 1e3:,.1f} | "
          f"{windows_per_batch / floor_seconds:,.0f} | {base / floor_seconds:,.1f}x | n/a |")
    print()
    print(f"get_batch / inflate floor = {ours_med / floor_seconds:.2f} (goal: at most 1.2)")


if __name__ == "__main__":
    main()
