"""Cache off against a build without the cache: get_batch with `cache_bytes=0` in this checkout
and get_batch of another build (a folder holding its bigwig_loader: `pip install --target`), on
identical windows, the two alternating process by process, round after round (two builds of one
extension module cannot share a process: pybind11 registers each C++ type once; the other
build's process imports it past this checkout's editable install: builds.use_build).

    .venv/bin/python benchmarks/cache_off.py --other /path/to/other/build [--rounds 3]
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZES = (1, 16, 256, 1024)
WINDOWS = 1024  # timed windows a batch size


def measure(tracks: int, seed: int) -> dict[int, float]:
    """Seconds per window, best batch of each size, in this process."""
    sys.path.insert(0, str(HERE))
    import corpus

    import bigwig_loader

    paths = corpus.ensure_corpus(tracks)
    kwargs = {"cache_bytes": 0} if "cache_bytes" in inspect.signature(bigwig_loader.BigWigCollection).parameters else {}
    collection = bigwig_loader.BigWigCollection(paths, **kwargs)
    rng = np.random.default_rng(seed)
    out = {}
    for b in SIZES:
        chroms = np.asarray(["chr21", "chr22"])[rng.integers(0, 2, b)]
        starts = rng.integers(10_000_000, 40_000_000, b)
        collection.get_batch(chroms, starts, starts + 1000, device="cpu")  # warm-up: page cache
        times = []
        for _ in range(max(2, WINDOWS // b)):
            t0 = time.perf_counter()
            collection.get_batch(chroms, starts, starts + 1000, device="cpu")
            times.append(time.perf_counter() - t0)
        out[b] = float(np.median(times)) / b
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--other", type=Path, help="the other build's folder (holding its bigwig_loader)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--build", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.build:
            sys.path.insert(0, str(HERE))
            from builds import use_build

            use_build(args.build)
        print(json.dumps(measure(args.tracks, 0)))
        return
    if args.other is None:
        ap.error("--other is required")
    sys.path.insert(0, str(HERE))
    from builds import child_output

    best: dict[str, dict[int, float]] = {"this checkout, cache_bytes=0": {}, f"other build ({args.other})": {}}
    for _ in range(args.rounds):
        for name, build in zip(best, ("", str(args.other))):
            text = child_output([sys.executable, __file__, "--child", "--tracks", str(args.tracks), "--build", build])
            for b, s in json.loads(text).items():
                best[name][int(b)] = min(best[name].get(int(b), float("inf")), s)
    print("| build | " + " | ".join(f"batch {b:,}" for b in SIZES) + " |")
    print("|---|" + "---:|" * len(SIZES))
    for name, points in best.items():
        print(f"| {name} | " + " | ".join(f"{1 / points[b]:,.0f}" for b in SIZES) + " |")


if __name__ == "__main__":
    main()
