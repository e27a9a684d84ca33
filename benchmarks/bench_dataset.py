"""End to end: samples/s of PytorchBigWigDataset (1 kb one-hot sequence + 16 tracks) against
the usual alternative, a map-style torch Dataset reading pyfaidx + pyBigWig per window under a
DataLoader with 0 and 2 worker processes. Same corpus, reference, regions, window length and
batch size for all; every contender checked first on identical windows against pyBigWig.

    .venv/bin/python benchmarks/bench_dataset.py [--batches 8] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd
import torch

import bigwig_loader
import corpus

LENGTH = 1000
ONE_HOT = np.zeros((256, 4), dtype=np.float32)
for letter, row in zip(b"ACGT", np.eye(4, dtype=np.float32)):
    ONE_HOT[letter] = row
    ONE_HOT[letter + 32] = row
ONE_HOT[ord("N")] = ONE_HOT[ord("n")] = 0.25


class PerWindowDataset(torch.utils.data.Dataset):
    """What users write today: one window per __getitem__, pyfaidx for the sequence, one
    pyBigWig call per track for the values (files opened lazily in each worker)."""

    def __init__(self, fasta, tracks, centres):
        self.fasta_path, self.track_paths, self.centres = fasta, tracks, centres
        self._fasta = self._tracks = None

    def __len__(self):
        return len(self.centres)

    def __getitem__(self, i):
        import pyBigWig
        import pyfaidx

        if self._fasta is None:
            self._fasta = pyfaidx.Fasta(str(self.fasta_path), sequence_always_upper=False)
            self._tracks = [pyBigWig.open(str(p)) for p in self.track_paths]
        chrom, centre = self.centres[i]
        start = centre - LENGTH // 2
        seq = str(self._fasta[chrom][start : start + LENGTH])
        onehot = ONE_HOT[np.frombuffer(seq.encode(), dtype=np.uint8)]
        values = np.stack([np.nan_to_num(t.values(chrom, start, start + LENGTH, numpy=True)) for t in self._tracks], axis=1)
        return torch.from_numpy(onehot), torch.from_numpy(values.astype(np.float32))


def time_batches(iterable, n: int) -> float:
    it = iter(iterable)
    next(it)  # start-up (worker processes, first files) is not counted
    t0 = time.perf_counter()
    for _ in range(n):
        next(it)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--tracks", type=int, default=16)
    args = ap.parse_args()

    tracks = corpus.ensure_corpus(args.tracks)
    fasta = corpus.ensure_reference()
    sizes = {c: corpus.HG38_SIZES[c] for c in corpus.DEFAULT_CHROMS}
    regions = pd.DataFrame({"chrom": list(sizes), "start": [10_000_000] * len(sizes), "end": [s - 1_000_000 for s in sizes.values()]})
    n_windows = (args.batches + 1) * args.batch_size

    ours = bigwig_loader.PytorchBigWigDataset(
        regions, tracks, fasta, sequence_length=LENGTH, batch_size=args.batch_size,
        batches_per_epoch=args.batches + 1, seed=0, n_threads=os.cpu_count() or 1, maximum_unknown_bases_fraction=1.0,
        return_batch_objects=True,
    )
    # The per-window contender reads exactly the windows our first epoch draws.
    batches = list(ours)
    centres = [(c, int(s) + LENGTH // 2) for b in batches for c, s in zip(b.chromosomes, b.starts)]
    check = PerWindowDataset(fasta, tracks, centres)
    for i in range(min(64, args.batch_size)):
        seq, values = check[i]
        assert torch.equal(seq, batches[0].sequences[i]), f"window {i}: sequences differ"
        assert torch.equal(values, torch.nan_to_num(batches[0].values[i])), f"window {i}: values differ"

    results = {}
    ours_plain = bigwig_loader.PytorchBigWigDataset(
        regions, tracks, fasta, sequence_length=LENGTH, batch_size=args.batch_size,
        batches_per_epoch=args.batches + 1, seed=0, n_threads=os.cpu_count() or 1, maximum_unknown_bases_fraction=1.0,
    )
    results["bigwig_loader PytorchBigWigDataset"] = time_batches(torch.utils.data.DataLoader(ours_plain, batch_size=None), args.batches)
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(PerWindowDataset(fasta, tracks, centres), batch_size=args.batch_size,
                                             num_workers=workers)
        results[f"pyfaidx + pyBigWig Dataset, DataLoader num_workers={workers}"] = time_batches(loader, args.batches)

    samples = args.batches * args.batch_size
    base = results["pyfaidx + pyBigWig Dataset, DataLoader num_workers=0"]
    print(f"corpus: {args.tracks} tracks ({corpus.DEFAULT_CHROMS}), random reference FASTA; windows of {LENGTH} bp, "
          f"batch {args.batch_size}, {args.batches} batches timed after one warm-up batch")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, torch {torch.__version__}")
    print()
    print("| contender | samples/s | vs num_workers=0 |")
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {samples / seconds:,.0f} | {base / seconds:.1f}x |")


if __name__ == "__main__":
    main()
