"""``bigwig-loader demo``: a synthetic genome and tracks, a model trained on them through
PytorchBigWigDataset, and its predictions written back as bigWig. See ``run.py``."""

from bigwig_loader.demo.run import DemoResult, ensure_dataset, run_demo
from bigwig_loader.demo.settings import DEFAULT, QUICK, DemoSettings, TrainSpec
from bigwig_loader.demo.synthetic import Dataset, DatasetSpec

__all__ = [
    "DEFAULT",
    "QUICK",
    "Dataset",
    "DatasetSpec",
    "DemoResult",
    "DemoSettings",
    "TrainSpec",
    "ensure_dataset",
    "run_demo",
]
