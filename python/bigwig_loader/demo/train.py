"""Training the demo's model with PytorchBigWigDataset, and scoring it on a held-out chromosome."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from bigwig_loader.collection import BigWigCollection
from bigwig_loader.demo.model import ProfileModel
from bigwig_loader.demo.settings import TrainSpec
from bigwig_loader.demo.synthetic import Dataset
from bigwig_loader.genome import ReferenceGenome, one_hot
from bigwig_loader.pytorch import PytorchBigWigDataset


@dataclass
class Training:
    model: ProfileModel
    samples: int
    seconds: float
    final_loss: float
    #: The loss of every step, in order (the figure's training curve).
    losses: list[float]


def train(data: Dataset, held_out: str, spec: TrainSpec, device: str, progress: bool = False) -> Training:
    """Trains on every chromosome but `held_out`, on windows the dataset draws at random, with
    a tqdm bar on stderr (samples/s and the smoothed loss) when `progress`."""
    torch.manual_seed(spec.seed)
    train_chroms = [c for c in data.chrom_sizes if c != held_out]
    regions = pd.DataFrame({"chrom": train_chroms, "start": 0, "end": [data.chrom_sizes[c] for c in train_chroms]})
    extra = {} if spec.n_threads is None else {"n_threads": spec.n_threads}
    dataset = PytorchBigWigDataset(
        regions,
        data.track_dir,
        data.genome,
        sequence_length=spec.sequence_length,
        center_bin_to_predict=spec.center_bin_to_predict,
        window_size=spec.window_size,
        batch_size=spec.batch_size,
        batches_per_epoch=spec.steps,
        seed=spec.seed,
        reverse_complement=True,
        device=device,
        **extra,
    )
    model = ProfileModel(
        len(data.tracks), spec.center_bin_to_predict // spec.window_size, spec.window_size, spec.filters, spec.channels
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.learning_rate)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=0)
    bar = tqdm(
        total=spec.steps * spec.batch_size,
        unit="sample",
        unit_scale=True,  # the rate: "2.41ksample/s"
        # Whole samples with thousands separators ("4,096/38,400"): tqdm's unit_scale showed
        # "32.0/14.4k", counts that read as fractions.
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:,}/{total:,} samples [{elapsed}<{remaining}, {rate_fmt}{postfix}]",
        desc="train",
        file=sys.stderr,
        disable=not progress,
    )
    smoothed = float("nan")
    start = time.perf_counter()
    samples = 0
    losses: list[float] = []
    with bar:
        for sequences, values in loader:
            loss = torch.nn.functional.poisson_nll_loss(model(sequences), values, log_input=True)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            samples += len(sequences)
            value = loss.item()
            losses.append(value)
            smoothed = value if np.isnan(smoothed) else 0.9 * smoothed + 0.1 * value
            bar.update(len(sequences))
            bar.set_postfix(loss=f"{smoothed:.4f}")
    return Training(model, samples, time.perf_counter() - start, smoothed, losses)


@dataclass
class Evaluation:
    chrom: str
    #: Start of each target window; window k covers [starts[k], starts[k] + center_bin_to_predict).
    starts: np.ndarray
    #: (windows, bins, tracks) float32.
    true: np.ndarray
    predicted: np.ndarray
    #: Pearson r per track, over every bin of the chromosome's windows.
    pearson: np.ndarray
    #: The same with the windows' predictions shuffled among the windows.
    shuffled_pearson: np.ndarray


def evaluate(model: ProfileModel, data: Dataset, chrom: str, spec: TrainSpec, device: str) -> Evaluation:
    """Predicts the held-out chromosome tile by tile (adjacent target windows, each with its
    sequence context inside the chromosome) and compares with the tracks there."""
    flank = (spec.sequence_length - spec.center_bin_to_predict) // 2
    size = data.chrom_sizes[chrom]
    n = (size - spec.sequence_length) // spec.center_bin_to_predict + 1
    starts = flank + spec.center_bin_to_predict * np.arange(n, dtype=np.int64)
    chroms = [chrom] * n
    collection = BigWigCollection(data.track_dir)
    assert collection.bigwig_paths == data.tracks, "the model's outputs are the collection's tracks, in its order"
    true = torch.from_dlpack(
        collection.get_batch(
            chroms, starts, starts + spec.center_bin_to_predict, window_size=spec.window_size, device=device
        )
    )
    genome = ReferenceGenome(data.genome)
    predicted = []
    model.eval()
    with torch.no_grad():
        for i in range(0, n, 256):
            bases = genome.fetch(chroms[i : i + 256], starts[i : i + 256] - flank, spec.sequence_length)
            sequences = torch.from_numpy(np.asarray(one_hot(bases))).to(device)
            predicted.append(model.predict(sequences).cpu())
    model.train()
    true_np = true.cpu().numpy().astype(np.float32)
    predicted_np = torch.cat(predicted).numpy().astype(np.float32)
    shuffled = predicted_np[np.random.default_rng(spec.seed).permutation(n)]
    return Evaluation(chrom, starts, true_np, predicted_np, pearson(true_np, predicted_np), pearson(true_np, shuffled))


def pearson(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Pearson r per track (last axis) over all other axes; 0 for a constant profile."""
    t = true.reshape(-1, true.shape[-1]).astype(np.float64)
    p = predicted.reshape(-1, predicted.shape[-1]).astype(np.float64)
    t -= t.mean(axis=0)
    p -= p.mean(axis=0)
    denominator = np.sqrt((t * t).sum(axis=0) * (p * p).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (t * p).sum(axis=0) / denominator
    return np.where(denominator > 0, r, 0.0)
