"""What the demo makes and how it trains: the default run and a quick one (no torch import)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bigwig_loader.demo.synthetic import BIN, DatasetSpec


@dataclass(frozen=True)
class TrainSpec:
    sequence_length: int = 1_000
    center_bin_to_predict: int = 500
    window_size: int = BIN
    batch_size: int = 64
    steps: int = 600
    learning_rate: float = 4e-3
    filters: int = 48
    channels: int = 32
    seed: int = 0
    #: Loader threads (None: the dataset's default).
    n_threads: int | None = None


@dataclass(frozen=True)
class DemoSettings:
    #: Names the output folder, output-<name>.
    name: str
    data: DatasetSpec = field(default_factory=DatasetSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    #: Adjacent target windows shown in the plot.
    plot_windows: int = 16


DEFAULT = DemoSettings("default")

#: A smaller genome and fewer steps: the same path end to end in seconds (the tests, --quick).
QUICK = DemoSettings(
    "quick",
    DatasetSpec(chrom_sizes={"chr1": 400_000, "chr2": 300_000, "chr3": 200_000}),
    TrainSpec(steps=450, batch_size=32),
    plot_windows=8,
)
