"""Stream training batches as numpy arrays, for any framework (JAX, TensorFlow, scikit-learn).

    python examples/framework_agnostic_example.py            # on the demo's synthetic data
    python examples/framework_agnostic_example.py --bigwig-dir tracks/ --genome hg38.fa --regions peaks.bed

BigWigDataset is PytorchBigWigDataset without torch: on the CPU it yields numpy float32 arrays,
sequences (batch, sequence_length, 4) one-hot and values (batch, center // window_size,
tracks). This script streams a few batches and fits, in plain numpy, a least-squares model of
each track's signal from the counts of every 4-mer in the window, then scores it on fresh
batches: the data path of a real model, with no framework at all.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from bigwig_loader import BigWigDataset, ReferenceGenome

K = 4


def kmer_counts(sequences: np.ndarray) -> np.ndarray:
    """(batch, 4**K) counts of every K-mer of each one-hot window (N counts for none)."""
    bases = np.where(sequences.max(axis=2) == 1, sequences.argmax(axis=2), -1)  # 0..3, -1 for N
    codes = np.zeros(bases[:, K - 1 :].shape, dtype=np.int64)
    valid = np.ones(codes.shape, dtype=bool)
    for j in range(K):
        window = bases[:, j : bases.shape[1] - K + 1 + j]
        codes = codes * 4 + np.maximum(window, 0)
        valid &= window >= 0
    counts = np.zeros((len(bases), 4**K))
    rows = np.broadcast_to(np.arange(len(bases))[:, None], codes.shape)
    np.add.at(counts, (rows[valid], codes[valid]), 1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bigwig-dir", help="your bigWig files (default: the demo's tracks)")
    parser.add_argument("--genome", help="your FASTA (default: the demo's genome)")
    parser.add_argument("--regions", help="BED file of regions to draw windows from (default: whole chromosomes)")
    parser.add_argument("--batches", type=int, default=40, help="batches to fit on (as many again to score on)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sequence-length", type=int, default=500)
    args = parser.parse_args()

    if (args.bigwig_dir is None) != (args.genome is None):
        parser.error("give both --bigwig-dir and --genome, or neither (the demo's data)")
    if args.bigwig_dir is None:
        from bigwig_loader import config
        from bigwig_loader.demo import DEFAULT, ensure_dataset

        data, _ = ensure_dataset(DEFAULT.data, config.demo_dir)
        args.bigwig_dir, args.genome = data.track_dir, data.genome
        print(f"the demo's data: {data.directory}")
    if args.regions:
        regions = pd.read_csv(
            args.regions, sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"], comment="#"
        )
    else:
        sizes = ReferenceGenome(args.genome).chrom_sizes
        regions = pd.DataFrame({"chrom": list(sizes), "start": 0, "end": list(sizes.values())})

    dataset = BigWigDataset(
        regions_of_interest=regions,
        collection=args.bigwig_dir,
        reference_genome_path=args.genome,
        sequence_length=args.sequence_length,
        window_size=args.sequence_length,
        batch_size=args.batch_size,
        batches_per_epoch=2 * args.batches,
        seed=0,
        device="cpu",
    )
    names = dataset.collection.track_names
    features, targets = [], []
    start = time.perf_counter()
    for sequences, values in itertools.islice(dataset, 2 * args.batches):
        # numpy arrays: sequences (batch, sequence_length, 4); values (batch, 1, tracks), the
        # mean of each track over the window (window_size = sequence_length)
        features.append(kmer_counts(np.asarray(sequences)))
        targets.append(np.asarray(values)[:, 0, :])
    seconds = time.perf_counter() - start
    x, y = np.concatenate(features), np.concatenate(targets)
    print(f"{len(x):,} windows of {args.sequence_length} bp, {len(names)} tracks, streamed in {seconds:.1f} s")

    half = len(x) // 2
    design = np.hstack([x, np.ones((len(x), 1))])
    coefficients, *_ = np.linalg.lstsq(design[:half], y[:half], rcond=None)
    predicted = design[half:] @ coefficients
    for t, name in enumerate(names):
        r = np.corrcoef(predicted[:, t], y[half:, t])[0, 1] if y[half:, t].std() > 0 else float("nan")
        top = np.argsort(coefficients[:-1, t])[::-1][:3]
        kmers = ["".join("ACGT"[(code >> (2 * (K - 1 - j))) & 3] for j in range(K)) for code in top]
        print(
            f"{name}: mean {y[:, t].mean():.3f}; {K}-mer model on unseen windows r = {r:.3f}; "
            f"strongest {K}-mers {', '.join(kmers)}"
        )


if __name__ == "__main__":
    main()
