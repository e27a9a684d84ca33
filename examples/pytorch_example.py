"""Train a PyTorch model on bigWig tracks and DNA sequence, read on the fly by bigwig-loader.

    python examples/pytorch_example.py                      # on the demo's synthetic data
    python examples/pytorch_example.py --bigwig-dir tracks/ --genome hg38.fa --held-out chr8 chr9

Without arguments it uses the data of ``bigwig-loader demo`` (generated on first use, no
download). With your own files: every bigWig under --bigwig-dir is a track, windows are drawn
from every chromosome of the FASTA that the tracks have (or from --regions, a BED file), except
the --held-out chromosomes, on which the model is then scored.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from bigwig_loader import BigWigCollection, PytorchBigWigDataset, ReferenceGenome, one_hot


class Model(nn.Module):
    """One-hot DNA (batch, length, 4) -> log of the signal (batch, target bins, tracks)."""

    def __init__(self, n_tracks: int, out_bins: int, bin_size: int) -> None:
        super().__init__()
        self.out_bins = out_bins
        self.layers = nn.Sequential(
            nn.Conv1d(4, 48, kernel_size=19, padding=9),
            nn.ReLU(),
            nn.MaxPool1d(bin_size),
            nn.Conv1d(48, 32, kernel_size=9, padding=4),
            nn.ReLU(),
            nn.Conv1d(32, 32, kernel_size=9, padding=8, dilation=2),
            nn.ReLU(),
            nn.Conv1d(32, n_tracks, kernel_size=1),
        )

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        x = self.layers(sequences.transpose(1, 2))
        crop = (x.shape[-1] - self.out_bins) // 2
        return x[..., crop : crop + self.out_bins].transpose(1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bigwig-dir", help="your bigWig files (default: the demo's tracks)")
    parser.add_argument("--genome", help="your FASTA (default: the demo's genome)")
    parser.add_argument("--regions", help="BED file of regions to train on (default: whole chromosomes)")
    parser.add_argument("--held-out", nargs="+", help="chromosomes to score on (default: the last one)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
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
    held_out = args.held_out or chromosomes[-1:]
    if args.regions:
        regions = pd.read_csv(
            args.regions, sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"], comment="#"
        )
    else:
        regions = pd.DataFrame({"chrom": chromosomes, "start": 0, "end": [genome.chrom_sizes[c] for c in chromosomes]})
    regions = regions[~regions["chrom"].isin(held_out)]
    print(
        f"{len(collection)} tracks ({', '.join(collection.track_names)}); training on {len(regions)} regions, "
        f"held out: {', '.join(held_out)}"
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
    model = Model(len(collection), args.center // args.window_size, args.window_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    start = time.perf_counter()
    for step, (sequences, values) in enumerate(torch.utils.data.DataLoader(dataset, batch_size=None), 1):
        # sequences: (batch, sequence_length, 4); values: (batch, center // window_size, tracks)
        loss = nn.functional.poisson_nll_loss(model(sequences), values.float(), log_input=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == args.steps:
            rate = step * args.batch_size / (time.perf_counter() - start)
            print(f"step {step}: loss {loss.item():.4f} ({rate:,.0f} samples/s)", flush=True)

    # Score: adjacent windows over each held-out chromosome, true values from get_batch.
    flank = (args.sequence_length - args.center) // 2
    true, predicted = [], []
    model.eval()
    with torch.no_grad():
        for chrom in held_out:
            starts = np.arange(flank, genome.chrom_sizes[chrom] - args.sequence_length + flank, args.center)
            for i in range(0, len(starts), 256):
                s = starts[i : i + 256]
                batch = collection.get_batch(
                    [chrom] * len(s), s, s + args.center, window_size=args.window_size, device=device
                )
                true.append(torch.from_dlpack(batch).cpu().numpy())
                bases = genome.fetch([chrom] * len(s), s - flank, args.sequence_length)
                x = torch.from_numpy(np.asarray(one_hot(bases))).to(device)
                predicted.append(model(x).exp().cpu().numpy())
    true_all = np.concatenate(true).reshape(-1, len(collection))
    predicted_all = np.concatenate(predicted).reshape(-1, len(collection))
    for name, t, p in zip(collection.track_names, true_all.T, predicted_all.T):
        print(f"held-out Pearson r {name}: {np.corrcoef(t, p)[0, 1]:.3f}")


if __name__ == "__main__":
    main()
