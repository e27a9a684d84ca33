"""Many tracks: what a batch costs at 1,000 to 10,000 files, per window-track and per block.

Enformer-scale training reads thousands of tracks (5,313 in Enformer's human set). This measures
a collection of N files (N = 1,000, 3,000, 10,000 by default), each N in a process of its own:

  open     BigWigCollection(paths): headers, chromosome trees and indexes of every file
  2 kb     batches of 64 x 2,048 bp windows, cold (cache_bytes=0) and warm (cache on, second pass;
           "warm" only where the default cache bound holds a batch's blocks: the last column)
  enformer batches of 2 x 114,688 bp windows in 128 bp bins, cold and warm

and, with --limit, the same under an open-files soft limit (1,024 by default), which the
collection raises to the hard limit where it can: the child lowers the hard limit too, so that
the descriptor pool must keep fewer files open than the collection has and reopen them.

Each point reports seconds per batch, microseconds per window-track and per block read (the
blocks a cold batch decodes: the cache's misses on the first pass). Costs that grow with the blocks
read, not faster, show as a flat microseconds-per-block column.

The tracks are small on purpose (a 2 Mb "chr1", ENCODE-like runs of mean 50 bp, ~40 blocks a
file): 200 distinct files written with pybigtools, then copied to as many names as needed
(separate files and inodes, so that every one is opened, indexed and cached on its own; the
page cache holds them all, so the figures are CPU, not disk). 10,000 files take ~5.5 GB under
the gitignored benchmarks/out/.

    .venv/bin/python benchmarks/many_tracks.py [--tracks 1000 3000 10000] [--limit 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out" / "many_tracks"
CHROM, SIZE = "chr1", 2_000_000
DISTINCT = 200


def write_one(path: Path, seed: int) -> None:
    import pybigtools

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus

    rng = np.random.default_rng(seed)
    starts, ends, values = corpus.track_runs(SIZE, corpus.TrackSpec(), rng)
    tmp = path.with_name(path.stem + ".partial.bw")
    pybigtools.open(str(tmp), "w").write(
        {CHROM: SIZE}, zip([CHROM] * len(starts), starts.tolist(), ends.tolist(), values.tolist())
    )
    tmp.rename(path)


def ensure_tracks(n: int) -> list[Path]:
    from concurrent.futures import ProcessPoolExecutor

    OUT.mkdir(parents=True, exist_ok=True)
    distinct = [OUT / f"distinct{i:03d}.bw" for i in range(DISTINCT)]
    missing = [(p, i) for i, p in enumerate(distinct) if not p.exists()]
    if missing:
        print(f"writing {len(missing)} distinct tracks ...", file=sys.stderr, flush=True)
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(write_one, [p for p, _ in missing], [i for _, i in missing]))
    paths = [OUT / f"track{i:05d}.bw" for i in range(n)]
    for i, p in enumerate(paths):
        if not p.exists():
            shutil.copyfile(distinct[i % DISTINCT], p)
    return paths


def windows(rng: np.random.Generator, batch: int, length: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    starts = rng.integers(0, SIZE - length, batch)
    return [CHROM] * batch, starts, starts + length


def measure(n: int, limit: int | None) -> dict:
    """Run in the child: every figure of one collection size."""
    if limit:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    import bigwig_loader

    paths = ensure_tracks(n)
    out: dict = {"tracks": n, "limit": limit}
    t = time.perf_counter()
    cold_collection = bigwig_loader.BigWigCollection(paths, cache_bytes=0)
    out["open_s"] = time.perf_counter() - t
    rng = np.random.default_rng(0)
    for name, batch, length, bin_size, n_batches in (("2kb", 64, 2_048, 1, 3), ("enformer", 2, 114_688, 128, 3)):
        batches = [windows(rng, batch, length) for _ in range(n_batches)]
        # Untimed: a first batch of this shape, so that the timed ones find its output memory
        # recycled, as every batch of a training loop but its first does.
        cold_collection.get_batch(*windows(rng, batch, length), window_size=bin_size)
        t = time.perf_counter()
        for b in batches:
            cold_collection.get_batch(*b, window_size=bin_size)
        cold = (time.perf_counter() - t) / n_batches
        # The blocks one cold batch decodes: a fresh cache's misses on each batch alone.
        blocks = 0
        for b in batches:
            fresh = bigwig_loader.BigWigCollection(paths)
            fresh.get_batch(*b, window_size=bin_size)
            blocks += fresh.cache_info().misses
        warm_collection = fresh  # its cache holds the last batch's blocks; the first pass below the rest
        for b in batches:
            warm_collection.get_batch(*b, window_size=bin_size)
        t = time.perf_counter()
        for b in batches:
            warm_collection.get_batch(*b, window_size=bin_size)
        warm = (time.perf_counter() - t) / n_batches
        window_tracks = batch * n
        out[name] = {
            "batch": batch,
            "length": length,
            "bin": bin_size,
            "cold_s": cold,
            "warm_s": warm,
            "cold_us_per_window_track": cold / window_tracks * 1e6,
            "warm_us_per_window_track": warm / window_tracks * 1e6,
            "blocks_per_batch": blocks / n_batches,
            "cold_us_per_block": cold / (blocks / n_batches) * 1e6,
            "output_mb": batch * (length // bin_size) * n * 4 / 1e6,
            "cache_holds_a_batch": fresh.cache_info().evictions == 0,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, nargs="+", default=[1_000, 3_000, 10_000])
    ap.add_argument("--limit", type=int, nargs="?", const=1_024, help="open-files limit (soft and hard) in the child")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.limit)))
        return
    ensure_tracks(max(args.tracks))
    print(
        "| tracks | open-files limit | open (s) | batch | cold s/batch | warm s/batch | cold us/window-track | "
        "warm us/window-track | blocks/batch | cold us/block | output MB | cache holds a batch |"
    )
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in args.tracks:
        command = [sys.executable, __file__, "--child", str(n)] + (["--limit", str(args.limit)] if args.limit else [])
        r = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        for name in ("2kb", "enformer"):
            p = r[name]
            shape = f"{p['batch']} x {p['length']:,} bp" + (f" / {p['bin']} bp bins" if p["bin"] > 1 else "")
            print(
                f"| {n:,} | {args.limit or 'default'} | {r['open_s']:.2f} | {shape} | {p['cold_s']:.3f} | "
                f"{p['warm_s']:.3f} | {p['cold_us_per_window_track']:.2f} | {p['warm_us_per_window_track']:.2f} | "
                f"{p['blocks_per_batch']:,.0f} | {p['cold_us_per_block']:.2f} | {p['output_mb']:,.0f} | "
                f"{'yes' if p['cache_holds_a_batch'] else 'no'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
