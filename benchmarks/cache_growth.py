"""The cache on never-seen windows (issue 25: "the cache never a cost").

Batches of one 1 kb window over 16 tracks, the windows `--step` apart along chr21 and chr22 so
that every batch reads blocks no earlier batch read, timed with the cache off (`cache_bytes=0`)
and on, in slices that alternate between the two collections (each its own cache), in one
process, after the files were read once (the page cache warm). Reported: each mode's time a batch
(the range over slices), the median over slices of the two modes' speed ratio (on / off: 1.0 is
"no cost"), the minor page faults a batch in each mode, and what a page fault costs on this
machine (a 4 KiB page first written, huge pages refused), which prices the cache's growth: its
new entries are the faults it adds.

`--bound` sets the cache-on collection's bound (default: the library's); with `--full` the cache
is first filled to its bound from windows of the range's second half, and the first half is
timed: the timed batches evict (the steady state) instead of growing the cache (the first epoch).

    .venv/bin/python benchmarks/cache_growth.py [--slices 20] [--bound 64e6 --full]
"""

from __future__ import annotations

import argparse
import json
import mmap
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

CHROMS = ("chr21", "chr22")
WINDOW = 1_000


def windows(step: int, first: int = 10_000_000, end: int = 45_000_000) -> list[tuple[str, int]]:
    """Every `step` bases from `first` to `end` of each chromosome (by default from past chr21's
    and chr22's leading gaps to near chr21's end)."""
    return [(c, s) for c in CHROMS for s in range(first, end, step)]


def fault_cost_us(mib: int = 64) -> float:
    """Microseconds a 4 KiB page costs when first written: a fresh anonymous mapping without huge
    pages, one byte written a page, less the same loop over the pages once they are mapped."""
    size, page = mib << 20, mmap.PAGESIZE
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # as malloc maps memory
    try:
        if hasattr(mmap, "MADV_NOHUGEPAGE"):
            m.madvise(mmap.MADV_NOHUGEPAGE)
        seconds = []
        for _ in range(2):  # the first pass faults, the second is the loop alone
            t0 = time.perf_counter()
            for offset in range(0, size, page):
                m[offset] = 1
            seconds.append(time.perf_counter() - t0)
    finally:
        m.close()
    return 1e6 * max(seconds[0] - seconds[1], 0.0) / (size // page)


def run_slice(collection, slice_windows) -> tuple[float, int]:
    """Seconds and minor page faults of one batch per window."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    for chrom, start in slice_windows:
        collection.get_batch([chrom], [start], [start + WINDOW], device="cpu")
    seconds = time.perf_counter() - t0
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--step", type=int, default=60_000, help="bases between consecutive windows")
    ap.add_argument("--slices", type=int, default=20)
    ap.add_argument("--bound", type=float, default=None, help="the cache-on collection's cache_bytes")
    ap.add_argument("--full", action="store_true", help="fill the cache to its bound before timing")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = ap.parse_args()

    import bigwig_loader

    paths = corpus.ensure_corpus(args.tracks)
    for p in paths:  # the page cache warm: this measures the cache of decoded blocks, not the disk
        Path(p).read_bytes()
    off = bigwig_loader.BigWigCollection(paths, cache_bytes=0)
    on = bigwig_loader.BigWigCollection(paths, **({} if args.bound is None else {"cache_bytes": int(args.bound)}))
    # With --full, the cache is filled from the second half of the range and the first half is
    # timed: no timed window shares a block with the windows that filled it.
    timed = windows(args.step, end=27_500_000) if args.full else windows(args.step)
    if args.full:
        for chrom, start in windows(args.step // 4, first=27_500_000):
            info = on.cache_info()
            if info.bytes >= 0.95 * info.max_bytes:
                break
            on.get_batch([chrom], [start], [start + WINDOW], device="cpu")
        else:
            sys.exit(f"--full: the filling windows filled only {on.cache_info().bytes} bytes of the bound")
    slices = np.array_split(np.arange(len(timed)), args.slices)
    per_batch = {"off": [], "on": []}
    faults = {"off": [], "on": []}
    ratios = []
    for i, idx in enumerate(slices):
        # Each slice's windows are read by both modes (each its own cache: never seen by either),
        # the first mode alternating from slice to slice.
        order = ("off", "on") if i % 2 == 0 else ("on", "off")
        seconds = {}
        for mode in order:
            s, f = run_slice(off if mode == "off" else on, [timed[j] for j in idx])
            seconds[mode] = s
            per_batch[mode].append(s / len(idx))
            faults[mode].append(f / len(idx))
        ratios.append(seconds["off"] / seconds["on"])
    info = on.cache_info()
    result = {
        "batches": len(timed),
        "us_off": [round(1e6 * min(per_batch["off"]), 1), round(1e6 * float(np.median(per_batch["off"])), 1)],
        "us_on": [round(1e6 * min(per_batch["on"]), 1), round(1e6 * float(np.median(per_batch["on"])), 1)],
        "on_over_off_median": round(float(np.median(ratios)), 3),
        "on_over_off_quartiles": [round(float(q), 3) for q in np.percentile(ratios, [25, 75])],
        "faults_off": round(float(np.median(faults["off"])), 1),
        "faults_on": round(float(np.median(faults["on"])), 1),
        "cache_blocks": int(info.blocks),
        "cache_mb": round(info.bytes / 1e6, 1),
        "cache_bound_mb": round(info.max_bytes / 1e6, 1),
        "evictions": int(info.evictions),
        "fault_us": round(fault_cost_us(), 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['batches']} batches of one {WINDOW} bp window x {args.tracks} tracks, {args.slices} slices")
    print(f"  cache off: {result['us_off'][0]}-{result['us_off'][1]} us a batch (best, median slice)")
    print(f"  cache on:  {result['us_on'][0]}-{result['us_on'][1]} us a batch (best, median slice)")
    print(
        f"  on / off speed, median of slices: {result['on_over_off_median']} (quartiles {result['on_over_off_quartiles']})"
    )
    print(
        f"  page faults a batch: off {result['faults_off']}, on {result['faults_on']}"
        f" (a 4 KiB page's first write here: {result['fault_us']} us)"
    )
    print(
        f"  cache: {result['cache_blocks']} entries, {result['cache_mb']} MB of {result['cache_bound_mb']} MB,"
        f" {result['evictions']} evictions"
    )


if __name__ == "__main__":
    main()
