"""Train a PyTorch model on bigWig tracks and DNA sequence, read on the fly by bigwig-loader.

    python examples/pytorch_example.py                      # on the demo's synthetic data
    python examples/pytorch_example.py --bigwig-dir tracks/ --genome hg38.fa --held-out chr8 chr9

Without arguments it uses the data of ``bigwig-loader demo`` (generated on first use, no
download). With your own files: every bigWig under --bigwig-dir is a track, windows are drawn
from every chromosome of the FASTA that the tracks have (or from --regions, a BED file), except
the --held-out chromosomes (default: the last one), on which the model is then scored. A genome
with one chromosome has its last fifth held out instead (windows drawn from the rest stay a
sequence length away from it).

The score is the Pearson r of predicted against true binned profiles over the held-out
windows, per track, beside the same predictions shuffled among the windows: that baseline keeps
everything but the link to the sequence, so r well above it is what the model learned from
DNA. On the demo's data the defaults (the demo's model and recipe, about a minute on two CPU
cores) reach a mean r of about 0.8 (0.86 measured) against a baseline of about 0.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from bigwig_loader import BigWigCollection, PytorchBigWigDataset, ReferenceGenome, one_hot

#: Held-out mean r this far above the shuffled baseline: the model learned sequence-specific
#: signal (the demo's own threshold).
CLEAR_MARGIN = 0.3


class Model(nn.Module):
    """One-hot DNA (batch, length, 4) -> log of the signal (batch, target bins, tracks).

    The demo's model (python/bigwig_loader/demo/model.py): motif detectors, pooled to the
    output's bins, then residual dilated convolutions for about ±300 bp of context."""

    def __init__(self, n_tracks: int, out_bins: int, bin_size: int, mean_signal: float) -> None:
        super().__init__()
        self.out_bins = out_bins
        self.motifs = nn.Conv1d(4, 48, kernel_size=19, padding=9)
        self.pool = nn.MaxPool1d(bin_size)
        self.mix = nn.Conv1d(48, 32, kernel_size=1)
        self.context = nn.ModuleList(nn.Conv1d(32, 32, kernel_size=5, dilation=d, padding=2 * d) for d in (1, 2, 4, 8))
        self.head = nn.Conv1d(32, n_tracks, kernel_size=1)
        # Start at the tracks' typical level: the first steps then learn shapes, not the level
        # (without it the first large steps push the rates down and training stalls for long).
        nn.init.constant_(self.head.bias, math.log(max(mean_signal, 1e-3)))

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.motifs(sequences.transpose(1, 2)))
        x = torch.relu(self.mix(self.pool(x)))
        for conv in self.context:
            x = x + torch.relu(conv(x))
        crop = (x.shape[-1] - self.out_bins) // 2
        return self.head(x[..., crop : crop + self.out_bins]).transpose(1, 2)


def fail(message: str) -> None:
    """One line on stderr and exit status 1, instead of a traceback."""
    sys.exit(f"pytorch_example.py: error: {message}")


def held_out_stretches(chromosomes: list[str], sizes: dict[str, int], asked: list[str] | None) -> list[tuple]:
    """(chrom, start, end) of each held-out stretch: the asked chromosomes, else the last
    chromosome, else (one chromosome) its last fifth."""
    if asked:
        missing = [c for c in asked if c not in sizes]
        if missing:
            fail(f"--held-out {' '.join(missing)}: not in the genome and tracks ({', '.join(chromosomes)})")
        return [(c, 0, sizes[c]) for c in asked]
    if not chromosomes:
        fail("the genome and the tracks have no chromosome in common")
    if len(chromosomes) > 1:
        return [(chromosomes[-1], 0, sizes[chromosomes[-1]])]
    chrom = chromosomes[0]
    return [(chrom, sizes[chrom] * 4 // 5, sizes[chrom])]


def without(regions: pd.DataFrame, stretches: list[tuple], margin: int) -> pd.DataFrame:
    """`regions` less each held-out stretch widened by `margin` on both sides, so that no
    training window's sequence reaches into it (a window's centre is drawn from the region)."""
    rows = []
    for chrom, start, end in regions[["chrom", "start", "end"]].itertuples(index=False):
        pieces = [(int(start), int(end))]
        for c, s, e in stretches:
            if c == chrom:
                pieces = [
                    p for a, b in pieces for p in ((a, min(b, s - margin)), (max(a, e + margin), b)) if p[0] < p[1]
                ]
        rows += [(chrom, a, b) for a, b in pieces]
    return pd.DataFrame(rows, columns=["chrom", "start", "end"])


def pearson(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Pearson r per track (last axis) over every bin of every window; 0 for a flat profile."""
    t = true.reshape(-1, true.shape[-1]).astype(np.float64)
    p = predicted.reshape(-1, predicted.shape[-1]).astype(np.float64)
    t -= t.mean(axis=0)
    p -= p.mean(axis=0)
    denominator = np.sqrt((t * t).sum(axis=0) * (p * p).sum(axis=0))
    return np.where(denominator > 0, (t * p).sum(axis=0) / np.where(denominator > 0, denominator, 1), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bigwig-dir", help="your bigWig files (default: the demo's tracks)")
    parser.add_argument("--genome", help="your FASTA (default: the demo's genome)")
    parser.add_argument("--regions", help="BED file of regions to train on (default: whole chromosomes)")
    parser.add_argument(
        "--held-out", nargs="+", help="chromosomes to score on (default: the last one; one chromosome: its last fifth)"
    )
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=4e-3)
    parser.add_argument("--sequence-length", type=int, default=1000)
    parser.add_argument("--center", type=int, default=500, help="bases predicted at the window's centre")
    parser.add_argument("--window-size", type=int, default=10, help="bases per predicted bin")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: bigwig_loader's choice)")
    args = parser.parse_args()

    if (args.bigwig_dir is None) != (args.genome is None):
        parser.error("give both --bigwig-dir and --genome, or neither (the demo's data)")
    if args.bigwig_dir is None:
        from bigwig_loader import config
        from bigwig_loader.demo import DEFAULT, ensure_dataset

        data, _ = ensure_dataset(DEFAULT.data, config.demo_dir)
        args.bigwig_dir, args.genome = data.track_dir, data.genome
        print(f"the demo's data: {data.directory}")

    collection = BigWigCollection(args.bigwig_dir)
    genome = ReferenceGenome(args.genome)
    chromosomes = [c for c in genome.chrom_sizes if c in set(collection.chromosomes)]
    sizes = {c: genome.chrom_sizes[c] for c in chromosomes}
    held_out = held_out_stretches(chromosomes, sizes, args.held_out)
    if args.regions:
        regions = pd.read_csv(
            args.regions, sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"], comment="#"
        )
    else:
        regions = pd.DataFrame({"chrom": chromosomes, "start": 0, "end": [sizes[c] for c in chromosomes]})
    regions = without(regions, held_out, args.sequence_length)
    shown = ", ".join(c if s == 0 and e == sizes[c] else f"{c}:{s:,}-{e:,}" for c, s, e in held_out)
    if len(chromosomes) == 1 and not args.held_out:
        shown += " (its last fifth: the genome has one chromosome)"
    if regions.empty:
        fail(f"nothing left to train on: every region is held out ({shown}); name other --held-out chromosomes")
    print(
        f"{len(collection)} tracks ({', '.join(collection.track_names)}); training on {len(regions)} regions, "
        f"held out: {shown}"
    )

    dataset = PytorchBigWigDataset(
        regions_of_interest=regions,
        collection=collection,
        reference_genome_path=args.genome,
        sequence_length=args.sequence_length,
        center_bin_to_predict=args.center,
        window_size=args.window_size,
        batch_size=args.batch_size,
        batches_per_epoch=args.steps,
        reverse_complement=True,
        seed=0,
        device=args.device,
    )
    device = torch.device(dataset.dataset.device)
    if device.type == "cpu":
        # The loader reads in its own threads: leave them a core, or both fight over every one.
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) - 1))
    torch.manual_seed(0)
    batches = iter(torch.utils.data.DataLoader(dataset, batch_size=None))
    first = next(batches)
    # The first batch's mean sets the model's starting level (see Model).
    model = Model(len(collection), args.center // args.window_size, args.window_size, first[1].float().mean().item())
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    start = time.perf_counter()
    for step, (sequences, values) in enumerate(itertools.chain([first], batches), 1):
        # sequences: (batch, sequence_length, 4); values: (batch, center // window_size, tracks)
        values = values.float()
        loss = nn.functional.poisson_nll_loss(model(sequences), values, log_input=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == args.steps:
            rate = step * args.batch_size / (time.perf_counter() - start)
            print(f"step {step}: loss {loss.item():.4f} ({rate:,.0f} samples/s)", flush=True)
    trained = time.perf_counter() - start

    # Score: adjacent windows tiling each held-out stretch, true values from get_batch.
    flank = (args.sequence_length - args.center) // 2
    true, predicted = [], []
    model.eval()
    with torch.no_grad():
        for chrom, first, last in held_out:
            starts = np.arange(first + flank, last - args.center - flank + 1, args.center)
            for i in range(0, len(starts), 256):
                s = starts[i : i + 256]
                batch = collection.get_batch(
                    [chrom] * len(s), s, s + args.center, window_size=args.window_size, device=device
                )
                true.append(torch.from_dlpack(batch).cpu().numpy())
                bases = genome.fetch([chrom] * len(s), s - flank, args.sequence_length)
                x = torch.from_numpy(np.asarray(one_hot(bases))).to(device)
                predicted.append(model(x).exp().cpu().numpy())
    true_all, predicted_all = np.concatenate(true), np.concatenate(predicted)
    # The baseline: each window scored with another window's prediction. Same values, same
    # profile shapes, no link to the window's sequence: what r is worth without learning DNA.
    shuffled = predicted_all[np.random.default_rng(0).permutation(len(predicted_all))]
    r, r_shuffled = pearson(true_all, predicted_all), pearson(true_all, shuffled)
    print(f"held-out ({len(true_all):,} windows of {args.center} bp): Pearson r of predicted against true profiles")
    for name, a, b in zip(collection.track_names, r, r_shuffled):
        print(f"held-out Pearson r {name}: {a:.3f}   shuffled windows: r = {b:+.3f}")
    mean, baseline = float(r.mean()), float(r_shuffled.mean())
    verdict = "clearly beats" if mean - baseline >= CLEAR_MARGIN else "does NOT clearly beat"
    print(f"held-out Pearson r mean: {mean:.3f}   shuffled windows: r = {baseline:+.3f}  ({verdict} the baseline)")
    print(
        f"trained {args.steps} steps in {trained:.1f} s. A good result is r well above the shuffled baseline "
        f"(>= {CLEAR_MARGIN} above it); on the demo's data these defaults reach about 0.8."
    )


if __name__ == "__main__":
    main()
