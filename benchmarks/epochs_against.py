"""The ChromBPNet-shaped epochs (benchmarks/epochs.py) in this checkout against another build:
five epochs through PytorchBigWigDataset with the block cache on, samples/s and the process's CPU
seconds per epoch, the two builds alternating process by process, round after round (two builds
of one extension module cannot share a process). CPU seconds are the fairer figure on a machine
shared with other work: wall time there depends on what else runs.

    .venv/bin/python benchmarks/epochs_against.py --other /path/to/other/site [--rounds 2] [--tracks 4 16]

`--other` is a directory holding the other build's `bigwig_loader` package (e.g. made by
`pip install --no-deps --target DIR <checkout>`); this checkout must be installed non-editable,
so that PYTHONPATH decides which build a process imports (each child says which it used).
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

HERE = Path(__file__).resolve().parent


def measure(tracks: int) -> dict:
    sys.path.insert(0, str(HERE))
    import corpus
    import epochs
    import torch

    import bigwig_loader

    spec = corpus.TrackSpec()
    paths = corpus.ensure_corpus(tracks, spec)
    fasta = corpus.ensure_reference(spec.chroms)
    regions = epochs.peaks(spec, np.random.default_rng(0), epochs.PEAKS)
    ds = epochs.dataset(regions, paths, fasta, None)
    rates, cpu = [], []
    for e in range(epochs.EPOCHS):
        ds.set_epoch(e)
        t0, c0 = time.perf_counter(), time.process_time()
        n = sum(s.shape[0] for s, _ in torch.utils.data.DataLoader(ds, batch_size=None))
        rates.append(n / (time.perf_counter() - t0))
        cpu.append(time.process_time() - c0)
    return {"module": bigwig_loader.__file__, "rates": rates, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--other", type=Path, help="directory holding the other build's bigwig_loader")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tracks", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    if args.other is None:
        ap.error("--other is required")
    builds = {"this checkout": {}, f"other build ({args.other})": {"PYTHONPATH": str(args.other)}}
    for tracks in args.tracks:
        runs: dict[str, list[dict]] = {name: [] for name in builds}
        for _ in range(args.rounds):
            for name, extra in builds.items():
                text = subprocess.run(
                    [sys.executable, __file__, "--child", str(tracks)],
                    env={**os.environ, **extra},
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(text.splitlines()[-1])
                expected_other = bool(extra)
                if expected_other != result["module"].startswith(str(args.other)):
                    sys.exit(f"{name} imported {result['module']}: install this checkout non-editable")
                runs[name].append(result)
        print(f"{tracks} tracks: samples/s per epoch (CPU seconds of the process per epoch), each round")
        print("| build | round | " + " | ".join(f"epoch {e + 1}" for e in range(len(result["rates"]))) + " |")
        print("|---|---:|" + "---:|" * len(result["rates"]))
        for name, results in runs.items():
            for r, res in enumerate(results):
                cells = [f"{rate:,.0f} ({cpu:.2f} s)" for rate, cpu in zip(res["rates"], res["cpu"])]
                print(f"| {name} | {r + 1} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
