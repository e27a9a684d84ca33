"""Stream training batches as numpy arrays, for any framework (JAX, TensorFlow, scikit-learn).

    python examples/framework_agnostic_example.py            # on the demo's synthetic data
    python examples/framework_agnostic_example.py --bigwig-dir tracks/ --genome hg38.fa --regions peaks.bed

BigWigDataset is PytorchBigWigDataset without torch: on the CPU it yields numpy float32 arrays,
sequences (batch, sequence_length, 4) one-hot and values (batch, center // window_size,
tracks). This script streams windows with each track's mean signal over the window and, in
plain numpy, finds the k-mers that drive each track: those whose windows carry the most signal
against the average (a z-score). It then fits a least-squares model of each track from the
counts of the k-mers it found and scores it on windows it did not see. The data path of a real
model, with no framework at all.

On the demo's data the k-mers found for each track are the motifs the demo planted for it
(printed beside them), with z-scores in the tens, where the next k-mers stay below about 7.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from bigwig_loader import BigWigDataset, ReferenceGenome

#: k-mers reported per track.
TOP = 3


def kmer_codes(sequences: np.ndarray, k: int) -> np.ndarray:
    """(batch, positions) the code (0 .. 4**k - 1) of the k-mer at each position of each one-hot
    window, read on whichever strand gives the lower code (a motif counts in both
    orientations); -1 where the k-mer has an N."""
    bases = np.where(sequences.max(axis=2) == 1, sequences.argmax(axis=2), -1)  # 0..3 (ACGT), -1 for N
    n = bases.shape[1] - k + 1
    forward = np.zeros((len(bases), n), dtype=np.int64)
    reverse = np.zeros((len(bases), n), dtype=np.int64)
    valid = np.ones((len(bases), n), dtype=bool)
    for j in range(k):
        base = bases[:, j : j + n]
        valid &= base >= 0
        forward = forward * 4 + np.maximum(base, 0)
        reverse += (3 - np.maximum(base, 0)) << (2 * j)  # the complement, read backwards
    return np.where(valid, np.minimum(forward, reverse), -1)


def decode(code: int, k: int) -> str:
    return "".join("ACGT"[(code >> (2 * (k - 1 - j))) & 3] for j in range(k))


def reverse_complement(word: str) -> str:
    return word.translate(str.maketrans("ACGT", "TGCA"))[::-1]


def enriched_kmers(codes: np.ndarray, signal: np.ndarray, k: int) -> np.ndarray:
    """(4**k, tracks) z-score of each k-mer per track: the mean signal of the windows that
    contain it, less the mean of all windows, in standard errors for that many windows. A
    k-mer in few windows needs a large difference, one in many a small one."""
    # Each k-mer once per window: a window's signal counts once however often it recurs.
    rows = np.sort(codes, axis=1)
    first = np.ones(rows.shape, dtype=bool)
    first[:, 1:] = rows[:, 1:] != rows[:, :-1]
    keep = first & (rows >= 0)
    which = rows[keep]
    window = np.broadcast_to(np.arange(len(rows))[:, None], rows.shape)[keep]
    n = np.bincount(which, minlength=4**k).astype(np.float64)
    z = np.zeros((4**k, signal.shape[1]))
    for t in range(signal.shape[1]):
        total = np.bincount(which, weights=signal[window, t], minlength=4**k)
        spread = signal[:, t].std()
        with np.errstate(invalid="ignore", divide="ignore"):
            z[:, t] = (total / n - signal[:, t].mean()) * np.sqrt(n) / (spread if spread > 0 else np.inf)
    return np.nan_to_num(z)


def distinct_top(scores: np.ndarray, k: int, count: int) -> list[tuple[str, float]]:
    """The `count` highest-scoring k-mers, skipping any that is a shifted copy (by up to k/2
    bases, either strand) of one already taken: a motif's neighbours score high only because
    their windows hold the motif."""
    taken: list[tuple[str, float]] = []
    for code in np.argsort(scores)[::-1]:
        word = decode(int(code), k)
        shifted = any(
            a[s:] == b[: k - s]
            for kept, _ in taken
            for w in (word, reverse_complement(word))
            for a, b in ((kept, w), (w, kept))
            for s in range(1, k // 2 + 1)
        )
        if not shifted:
            taken.append((word, float(scores[code])))
        if len(taken) == count:
            break
    return taken


def counts_of(codes: np.ndarray, words: list[str], k: int) -> np.ndarray:
    """(windows, len(words)) how often each word (either strand) occurs in each window."""
    wanted = [min(_code(w), _code(reverse_complement(w))) for w in words]
    return np.stack([(codes == c).sum(axis=1) for c in wanted], axis=1).astype(np.float64)


def _code(word: str) -> int:
    return int(word.translate(str.maketrans("ACGT", "0123")), 4)


def shown(word: str, planted: dict[str, str]) -> str:
    """`word`, and the planted motif it is part of (either strand), in that motif's orientation."""
    for name, motif in planted.items():
        for w in (word, reverse_complement(word)):
            if w in motif or motif in w:
                return f"{w} = {name}"
    return word


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bigwig-dir", help="your bigWig files (default: the demo's tracks)")
    parser.add_argument("--genome", help="your FASTA (default: the demo's genome)")
    parser.add_argument("--regions", help="BED file of regions to draw windows from (default: whole chromosomes)")
    parser.add_argument("--batches", type=int, default=40, help="batches to fit on (as many again to score on)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sequence-length", type=int, default=500)
    parser.add_argument("-k", type=int, default=8, help="k-mer length: about a motif's length (default 8)")
    args = parser.parse_args()

    planted: dict[str, str] = {}
    if (args.bigwig_dir is None) != (args.genome is None):
        parser.error("give both --bigwig-dir and --genome, or neither (the demo's data)")
    if args.bigwig_dir is None:
        from bigwig_loader import config
        from bigwig_loader.demo import DEFAULT, ensure_dataset

        data, _ = ensure_dataset(DEFAULT.data, config.demo_dir)
        args.bigwig_dir, args.genome = data.track_dir, data.genome
        planted = {m.name: m.sequence for m in DEFAULT.data.motifs}
        print(f"the demo's data: {data.directory}")
        print(f"planted motifs: {', '.join(f'{name} {motif}' for name, motif in planted.items())}")
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
    codes, targets = [], []
    start = time.perf_counter()
    for sequences, values in itertools.islice(dataset, 2 * args.batches):
        # numpy arrays: sequences (batch, sequence_length, 4); values (batch, 1, tracks), the
        # mean of each track over the window (window_size = sequence_length)
        codes.append(kmer_codes(np.asarray(sequences), args.k))
        targets.append(np.asarray(values)[:, 0, :])
    seconds = time.perf_counter() - start
    x, y = np.concatenate(codes), np.concatenate(targets).astype(np.float64)
    print(f"{len(x):,} windows of {args.sequence_length} bp, {len(names)} tracks, streamed in {seconds:.1f} s")

    # Find the k-mers on the first half of the windows; score a model of them on the second.
    half = len(x) // 2
    z = enriched_kmers(x[:half], y[:half], args.k)
    rng = np.random.default_rng(0)
    for t, name in enumerate(names):
        found = distinct_top(z[:, t], args.k, TOP)
        design = np.hstack([counts_of(x, [w for w, _ in found], args.k), np.ones((len(x), 1))])
        coefficients, *_ = np.linalg.lstsq(design[:half], y[:half, t], rcond=None)
        predicted = design[half:] @ coefficients
        truth = y[half:, t]
        r = np.corrcoef(predicted, truth)[0, 1] if truth.std() > 0 and predicted.std() > 0 else 0.0
        shuffled = predicted[rng.permutation(len(predicted))]
        r_shuffled = np.corrcoef(shuffled, truth)[0, 1] if truth.std() > 0 and predicted.std() > 0 else 0.0

        words = ", ".join(f"{shown(w, planted)} (z {s:.1f})" for w, s in found)
        print(f"{name}: strongest {args.k}-mers {words}")
        print(f"  least squares on their counts, unseen windows: r = {r:.3f}   shuffled windows: r = {r_shuffled:+.3f}")


if __name__ == "__main__":
    main()
