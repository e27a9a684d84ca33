"""The harness's plots beyond bigwig_loader.throughput.plot_sweep (which draws one panel against
batch size): several panels in one figure, and any x axis (tracks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bigwig_loader import throughput


def plot_panels(
    panels: dict[str, dict[str, Sequence[tuple[int, float]]]],
    out: str | Path,
    title: str,
    xlabel: str = "batch size (windows)",
) -> None:
    """A log-log PNG of windows/s against `xlabel`, one panel per key of `panels` (titled by it,
    in rows of three), one line per name in a panel's series (each a list of (x, windows/s)),
    the same name in the same colour in every panel. ImportError with the install command when
    matplotlib is missing."""
    matplotlib = throughput.require_matplotlib()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    single = len(panels) == 1
    fig, axes = plt.subplots(
        rows, columns, figsize=(7, 4.5) if single else (5.5 * columns, 4 * rows + 1), dpi=100, squeeze=False
    )
    names = list(dict.fromkeys(name for series in panels.values() for name in series))
    colours = {name: f"C{i % 10}" for i, name in enumerate(names)}
    for ax, (panel, series) in zip(axes.flat, panels.items()):
        for name, points in series.items():
            if points:
                xs, ys = zip(*sorted(points))
                ax.plot(xs, ys, marker="o", label=name, color=colours[name])
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("windows / s")
        ax.set_title(title if single else panel, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    if single:
        axes[0, 0].legend(fontsize=8)
        fig.tight_layout()
    else:
        fig.suptitle(title, fontsize=11)
        handles = [plt.Line2D([], [], color=colours[n], marker="o", label=n) for n in names]
        fig.legend(handles=handles, loc="lower center", ncol=min(4, len(names)), fontsize=8)
        fig.tight_layout(rect=(0, 0.03 + 0.025 * ((len(names) + 3) // 4), 1, 0.97))
    fig.savefig(out)
    plt.close(fig)
