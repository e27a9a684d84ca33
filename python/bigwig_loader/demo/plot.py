"""The demo's picture: true and predicted signal of every track over one region, read back
from the bigWig files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bigwig_loader.bigwig import BigWig


def busiest_region(true: np.ndarray, starts: np.ndarray, bin_size: int, windows: int) -> tuple[int, int]:
    """(start, end) of the run of `windows` adjacent target windows with the most signal."""
    per_window = true.sum(axis=(1, 2))
    windows = min(windows, len(per_window))
    totals = np.convolve(per_window, np.ones(windows), mode="valid")
    first = int(np.argmax(totals))
    length = true.shape[1] * bin_size
    return int(starts[first]), int(starts[first + windows - 1]) + length


def plot_tracks(
    path: Path, chrom: str, start: int, end: int, true_files: list[Path], predicted_files: list[Path], title: str
) -> Path:
    """A PNG with one panel per track: the track's values (grey) and the prediction (line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(start, end)
    fig, axes = plt.subplots(len(true_files), 1, figsize=(11, 1.7 * len(true_files) + 0.8), sharex=True, squeeze=False)
    for ax, true_file, predicted_file in zip(axes[:, 0], true_files, predicted_files):
        with BigWig(true_file) as bw:
            true = bw.values(chrom, start, end, default=0)
        with BigWig(predicted_file) as bw:
            predicted = bw.values(chrom, start, end, default=0)
        ax.fill_between(x, true, step="post", color="0.7", linewidth=0, label="true")
        ax.plot(x, predicted, color="C3", linewidth=1.2, label="predicted")
        ax.set_ylabel(true_file.stem, rotation=0, ha="right", va="center", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].legend(loc="upper right", frameon=False, ncol=2, fontsize=9)
    axes[0, 0].set_title(title, fontsize=10)
    axes[-1, 0].set_xlabel(f"{chrom} (bp)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
