"""The end-to-end case: samples/s of PytorchBigWigDataset (one-hot sequence + every track)
against what users write today, a map-style torch Dataset reading pyfaidx + pyBigWig per window
under a DataLoader with 0, 1, 2 and N worker processes. Same corpus, reference, windows and
batch size for all; the per-window Dataset reads exactly the windows bigwig-loader drew, and
its first windows are checked equal (sequence and values, NaN read as 0 by both)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import bigwig_loader
import contenders
import corpus

ONE_HOT = np.zeros((256, 4), dtype=np.float32)
for letter, row in zip(b"ACGT", np.eye(4, dtype=np.float32)):
    ONE_HOT[letter] = row
    ONE_HOT[letter + 32] = row
ONE_HOT[ord("N")] = ONE_HOT[ord("n")] = 0.25


class PerWindowDataset(torch.utils.data.Dataset):
    """One window per __getitem__: pyfaidx for the sequence, one pyBigWig call per track for the
    values (files opened lazily in each worker)."""

    def __init__(self, fasta: Path, tracks: list[Path], centres: list[tuple[str, int]], length: int):
        self.fasta_path, self.track_paths, self.centres, self.length = fasta, tracks, centres, length
        self._fasta = self._tracks = None

    def __len__(self) -> int:
        return len(self.centres)

    def __getitem__(self, i: int):
        import pyBigWig
        import pyfaidx

        if self._fasta is None:
            self._fasta = pyfaidx.Fasta(str(self.fasta_path), sequence_always_upper=False)
            self._tracks = [pyBigWig.open(str(p)) for p in self.track_paths]
        chrom, centre = self.centres[i]
        start = centre - self.length // 2
        seq = str(self._fasta[chrom][start : start + self.length])
        onehot = ONE_HOT[np.frombuffer(seq.encode(), dtype=np.uint8)]
        values = np.stack(
            [np.nan_to_num(t.values(chrom, start, start + self.length, numpy=True)) for t in self._tracks], axis=1
        )
        return torch.from_numpy(onehot), torch.from_numpy(values.astype(np.float32))


def _time_batches(iterable, n: int) -> float:
    it = iter(iterable)
    next(it)  # start-up (worker processes, first files) is not counted
    t0 = time.perf_counter()
    for _ in range(n):
        next(it)
    return time.perf_counter() - t0


def run(tracks: int, batch_size: int, batches: int, length: int = 1000) -> tuple[list[tuple[str, float, str]], str]:
    """Rows (contender, samples/s, output) and a one-line description of the case."""
    spec = corpus.TrackSpec()
    paths = corpus.ensure_corpus(tracks, spec)
    fasta = corpus.ensure_reference(spec.chroms)
    sizes = {c: corpus.HG38_SIZES[c] for c in spec.chroms}
    regions = pd.DataFrame(
        {"chrom": list(sizes), "start": [10_000_000] * len(sizes), "end": [s - 1_000_000 for s in sizes.values()]}
    )

    def ours(**extra):
        return bigwig_loader.PytorchBigWigDataset(
            regions,
            paths,
            fasta,
            sequence_length=length,
            batch_size=batch_size,
            batches_per_epoch=batches + 1,
            seed=0,
            n_threads=os.cpu_count() or 1,
            maximum_unknown_bases_fraction=1.0,
            **extra,
        )

    drawn = list(ours(return_batch_objects=True))
    centres = [(c, int(s) + length // 2) for b in drawn for c, s in zip(b.chromosomes, b.starts)]
    check = PerWindowDataset(fasta, paths, centres, length)
    same = True
    for i in range(min(64, batch_size)):
        seq, values = check[i]
        same &= torch.equal(seq, drawn[0].sequences[i]) and torch.equal(values, torch.nan_to_num(drawn[0].values[i]))
    verdict = "same as pyfaidx + pyBigWig" if same else "WRONG"

    rows = [
        (
            "bigwig_loader PytorchBigWigDataset",
            batches * batch_size / _time_batches(torch.utils.data.DataLoader(ours(), batch_size=None), batches),
            verdict,
        )
    ]
    for workers in [0, *contenders.dataloader_worker_counts()]:
        # A fresh Dataset: `check` holds files opened here, whose offsets forked workers would share.
        loader = torch.utils.data.DataLoader(
            PerWindowDataset(fasta, paths, centres, length), batch_size=batch_size, num_workers=workers
        )
        rows.append(
            (
                f"pyfaidx + pyBigWig Dataset, DataLoader num_workers={workers}",
                batches * batch_size / _time_batches(loader, batches),
                "oracle",
            )
        )
    what = (
        f"{tracks} tracks ({', '.join(spec.chroms)}), random reference FASTA; {length:,} bp sequence + values, "
        f"batch {batch_size}, {batches} batches timed after one warm-up batch"
    )
    return rows, what
