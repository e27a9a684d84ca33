"""The demo's picture: true and predicted signal of every track over one stretch of the held-out
chromosome (read back from the bigWig files), predicted against true over the whole chromosome,
and the training loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bigwig_loader.bigwig import BigWig

#: The y axes' quantity: the synthetic tracks hold a Poisson read count per 10 bp bin divided
#: by the sequencing depth (see synthetic.py), as a normalised coverage track does.
SIGNAL = "signal\n(reads / depth)"
#: Bins drawn in each scatter: enough to show the cloud, few enough to stay a small PNG.
SCATTER_POINTS = 6_000


def busiest_region(true: np.ndarray, starts: np.ndarray, bin_size: int, windows: int) -> tuple[int, int]:
    """(start, end) of the run of `windows` adjacent target windows with the most signal."""
    per_window = true.sum(axis=(1, 2))
    windows = min(windows, len(per_window))
    totals = np.convolve(per_window, np.ones(windows), mode="valid")
    first = int(np.argmax(totals))
    length = true.shape[1] * bin_size
    return int(starts[first]), int(starts[first + windows - 1]) + length


def build_figure(
    evaluation: Any,
    start: int,
    end: int,
    true_files: list[Path],
    predicted_files: list[Path],
    losses: list[float],
    bin_size: int,
) -> Any:
    """The matplotlib Figure. `evaluation` is train.Evaluation of the held-out chromosome;
    [start, end) the stretch shown (busiest_region's); `losses` the loss of every training step.

    One row per track: left, the stretch, true value of each base (grey) and prediction (red,
    one value per `bin_size` bin), titled with the track's r; right, predicted against true for
    a random sample of the chromosome's bins (seeded: the same figure each run). Last row: the
    training loss."""
    # A Figure without pyplot: no backend, no global state (a notebook's is left alone).
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    chrom = evaluation.chrom
    n = len(true_files)
    fig = Figure(figsize=(12, 1.95 * n + 3.6))
    grid = fig.add_gridspec(n + 1, 2, width_ratios=(4.2, 1), height_ratios=(*([1] * n), 1.1), hspace=0.8, wspace=0.22)
    shown = (evaluation.starts >= start) & (evaluation.starts < end)
    x = np.arange(start, end)
    thousands = FuncFormatter(lambda value, _: f"{value:,.0f}")
    rng = np.random.default_rng(0)
    sample = rng.choice(evaluation.true[..., 0].size, min(SCATTER_POINTS, evaluation.true[..., 0].size), replace=False)
    profile_axes = []
    for t, (true_file, predicted_file) in enumerate(zip(true_files, predicted_files)):
        ax = fig.add_subplot(grid[t, 0], sharex=profile_axes[0] if profile_axes else None)
        profile_axes.append(ax)
        with BigWig(true_file) as bw:
            true = bw.values(chrom, start, end, default=0)
        with BigWig(predicted_file) as bw:
            predicted = bw.values(chrom, start, end, default=0)
        ax.fill_between(x, true, step="post", color="0.7", linewidth=0, label="true (bigWig value of each base)")
        ax.plot(x, predicted, color="C3", linewidth=1.2, label=f"predicted (one value per {bin_size} bp bin)")
        here = _pearson(evaluation.true[shown, :, t], evaluation.predicted[shown, :, t])
        ax.set_title(
            f"{true_file.stem}: r = {evaluation.pearson[t]:.2f} on all of {chrom} "
            f"(shuffled windows {evaluation.shuffled_pearson[t]:+.2f}), {here:.2f} in this stretch",
            loc="left",
            fontsize=9,
        )
        ax.set_ylabel(SIGNAL, fontsize=8)
        ax.xaxis.set_major_formatter(thousands)
        ax.tick_params(labelbottom=t == n - 1)
        ax.spines[["top", "right"]].set_visible(False)

        scatter = fig.add_subplot(grid[t, 1])
        truth = evaluation.true[..., t].reshape(-1)[sample]
        guess = evaluation.predicted[..., t].reshape(-1)[sample]
        scatter.scatter(truth, guess, s=3, alpha=0.25, color="C0", linewidths=0, rasterized=True)
        top = float(max(truth.max(), guess.max(), 1e-6))
        scatter.plot([0, top], [0, top], color="0.4", linewidth=0.8, linestyle="--", label="y = x")
        scatter.set_title(
            f"{true_file.stem}: {len(sample):,} random {bin_size} bp bins\nof {chrom}; r (all bins) = {evaluation.pearson[t]:.2f}",
            fontsize=8,
        )
        scatter.set_xlabel(f"true (mean of the {bin_size} bp bin)", fontsize=8)
        scatter.set_ylabel("predicted", fontsize=8)
        scatter.tick_params(labelsize=7)
        scatter.legend(loc="upper left", frameon=False, fontsize=7)
        scatter.spines[["top", "right"]].set_visible(False)
    handles, labels = profile_axes[0].get_legend_handles_labels()
    height = fig.get_figheight()
    fig.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.55 / height), ncol=2, frameon=False, fontsize=9
    )
    profile_axes[-1].set_xlabel(f"{chrom} position (bp)")

    loss = fig.add_subplot(grid[n, :])
    steps = np.arange(1, len(losses) + 1)
    loss.plot(steps, losses, color="0.75", linewidth=0.7, label="each step")
    if len(losses) >= 20:
        width = max(5, len(losses) // 30)
        smooth = np.convolve(losses, np.ones(width) / width, mode="valid")
        loss.plot(steps[width - 1 :], smooth, color="C0", linewidth=1.5, label=f"mean of {width} steps")
    loss.set_title("training loss, on the other chromosomes", loc="left", fontsize=9)
    loss.set_xlabel("training step (one batch)")
    loss.set_ylabel("Poisson loss", fontsize=8)
    loss.xaxis.set_major_formatter(thousands)
    loss.legend(loc="upper right", frameon=False, fontsize=8)
    loss.spines[["top", "right"]].set_visible(False)

    windows = int(shown.sum())
    fig.suptitle(
        f"held-out {chrom}, never seen in training: true and predicted signal, mean r {evaluation.pearson.mean():.2f}.\n"
        f"Shown: {chrom}:{start:,}-{end:,}, the {windows} adjacent windows ({end - start:,} bp) with the most true "
        f"signal, summed over the tracks. r: Pearson, over {bin_size} bp bins.",
        fontsize=10,
        y=1 - 0.08 / height,
        va="top",
    )
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 1.15 / height, bottom=0.55 / height)
    return fig


def plot_tracks(
    path: Path,
    evaluation: Any,
    start: int,
    end: int,
    true_files: list[Path],
    predicted_files: list[Path],
    losses: list[float],
    bin_size: int,
) -> Path:
    """build_figure's figure as a PNG at `path`."""
    build_figure(evaluation, start, end, true_files, predicted_files, losses, bin_size).savefig(path, dpi=110)
    return path


def _pearson(true: np.ndarray, predicted: np.ndarray) -> float:
    t, p = true.reshape(-1).astype(np.float64), predicted.reshape(-1).astype(np.float64)
    if t.std() == 0 or p.std() == 0:
        return 0.0
    return float(np.corrcoef(t, p)[0, 1])
