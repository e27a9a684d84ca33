"""``bigwig-loader demo``: the library's main job on data it makes itself.

1. On first run, generate the synthetic dataset (``synthetic.py``) into the cache, once per
   spec: ``<dir>/data-<key>/`` holds ``genome.fa`` and ``tracks/*.bw``.
2. Train the small model (``model.py``) with PytorchBigWigDataset on every chromosome but the
   last (``train.py``).
3. Predict the held-out chromosome, score the prediction (Pearson r) against the same
   predictions shuffled among windows, and write it as bigWig files, one per track.
4. Plot true against predicted signal over the busiest region (read back from the files), predicted
   against true over the whole chromosome, and the training loss (``plot.py``).

Outputs go to ``<dir>/output-<settings name>/``, replaced by each run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

import bigwig_loader
from bigwig_loader.demo.settings import DEFAULT, DemoSettings
from bigwig_loader.demo.synthetic import Dataset, DatasetSpec, generate

#: How much better than the shuffled baseline the held-out correlation must be to call the
#: model's predictions sequence-specific (used by the tests and reported by the demo).
CLEAR_MARGIN = 0.3


@dataclass
class DemoResult:
    directory: Path
    data: Dataset
    output: Path
    predictions: list[Path]
    plot: Path
    model: Path
    metrics: Path
    held_out: str
    pearson: dict[str, float]
    shuffled_pearson: dict[str, float]
    device: str
    seconds: dict[str, float]
    #: The held-out windows, their true and predicted values (train.Evaluation).
    evaluation: Any = None
    #: The loss of every training step.
    losses: list[float] | None = None

    @property
    def mean_pearson(self) -> float:
        return float(np.mean(list(self.pearson.values())))

    @property
    def mean_shuffled_pearson(self) -> float:
        return float(np.mean(list(self.shuffled_pearson.values())))


def run_demo(
    settings: DemoSettings | None = None,
    directory: str | os.PathLike[str] | None = None,
    device: Any = None,
    progress: bool | None = None,
    threads: int | None = None,
    out: TextIO | None = None,
) -> DemoResult:
    """Runs the demo (see the module's documentation) and returns where everything is.

    Args:
        directory: the demo's folder (default: ``bigwig_loader.config.demo_dir``).
        device: as everywhere in bigwig_loader (default: "cuda" when a GPU is available, else
            "cpu"); the model trains there too.
        progress: show the training bar (default: when stderr is a terminal).
        threads: torch's CPU threads while the demo runs (default: all but one of the CPUs this
            process may use, the one left to the loader's threads; restored afterwards).
        out: where the report is printed (default: stdout).
    """
    torch = _require("torch", "PyTorch")
    _require("matplotlib", "matplotlib")
    before = torch.get_num_threads()
    torch.set_num_threads(threads or max(1, len(os.sched_getaffinity(0)) - 1))
    try:
        return _run(settings or DEFAULT, directory, device, progress, out or sys.stdout)
    finally:
        torch.set_num_threads(before)


def _run(
    settings: DemoSettings, directory: str | os.PathLike[str] | None, device: Any, progress: bool | None, out: TextIO
) -> DemoResult:
    import torch

    from bigwig_loader import config
    from bigwig_loader.demo.train import evaluate, train
    from bigwig_loader.device import device_name, resolve_device

    started = time.perf_counter()

    spec = settings.train
    show = sys.stderr.isatty() if progress is None else progress
    directory = Path(directory) if directory is not None else config.settings().demo_dir
    device = device_name(resolve_device(device))
    seconds: dict[str, float] = {}

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    say(
        f"bigwig-loader {bigwig_loader.__version__} demo ({settings.name}): device {device}, "
        f"torch {torch.__version__} with {torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''}"
    )

    t = time.perf_counter()
    data, made = ensure_dataset(settings.data, directory)
    seconds["data"] = time.perf_counter() - t
    total_bp = sum(data.chrom_sizes.values())
    say(
        f"data: {'generated' if made else 'found'} in {seconds['data']:.1f} s: {len(data.chrom_sizes)} chromosomes "
        f"({total_bp / 1e6:.1f} Mb) with planted motifs, {len(data.tracks)} tracks"
    )

    held_out = list(data.chrom_sizes)[-1]
    trained_on = [c for c in data.chrom_sizes if c != held_out]
    say(
        f"train: {spec.steps} batches of {spec.batch_size} windows ({spec.sequence_length} bp of sequence, "
        f"{spec.center_bin_to_predict} bp of targets in {spec.window_size} bp bins) from {', '.join(trained_on)}"
    )
    training = train(data, held_out, spec, device, progress=show)
    seconds["train"] = training.seconds
    say(
        f"  {training.samples:,} samples in {training.seconds:.1f} s ({training.samples / training.seconds:,.0f} "
        f"samples/s), final loss {training.final_loss:.4f}"
    )

    t = time.perf_counter()
    evaluation = evaluate(training.model, data, held_out, spec, device)
    names = [p.stem for p in data.tracks]
    pearson = dict(zip(names, map(float, evaluation.pearson)))
    shuffled = dict(zip(names, map(float, evaluation.shuffled_pearson)))
    output = directory / f"output-{settings.name}"
    predictions, model_path, plot_path = _write_outputs(settings, data, training, evaluation, output)
    seconds["evaluate"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - started

    mean, baseline = _report_pearson(evaluation, held_out, names, say)
    metrics_path = output / "metrics.json"
    metrics = {
        "settings": settings.name,
        "device": device,
        "held_out": held_out,
        "pearson": pearson,
        "shuffled_pearson": shuffled,
        "mean_pearson": mean,
        "mean_shuffled_pearson": baseline,
        "samples": training.samples,
        "seconds": seconds,
        "data_spec": asdict(settings.data),
    }
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")

    _report_locations(data, output, held_out, plot_path, model_path, metrics_path, say)
    say(
        f"done in {seconds['total']:.1f} s (data {seconds['data']:.1f} s, training {seconds['train']:.1f} s, "
        f"evaluation and files {seconds['evaluate']:.1f} s)"
    )
    return DemoResult(
        directory,
        data,
        output,
        predictions,
        plot_path,
        model_path,
        metrics_path,
        held_out,
        pearson,
        shuffled,
        device,
        seconds,
        evaluation,
        training.losses,
    )


def _write_outputs(
    settings: DemoSettings, data: Dataset, training: Any, evaluation: Any, output: Path
) -> tuple[list[Path], Path, Path]:
    """The held-out predictions as bigWig, the model, and the figure, in a fresh `output`:
    (prediction files, model path, figure path)."""
    import torch

    from bigwig_loader.demo import plot

    spec = settings.train
    if output.exists():
        shutil.rmtree(output)
    (output / "predictions").mkdir(parents=True)
    predictions = write_predictions(evaluation, data, output / "predictions", spec.window_size)
    model_path = output / "model.pt"
    torch.save(training.model.state_dict(), model_path)
    start, end = plot.busiest_region(evaluation.true, evaluation.starts, spec.window_size, settings.plot_windows)
    plot_path = plot.plot_tracks(
        output / "true_vs_predicted.png",
        evaluation,
        start,
        end,
        data.tracks,
        predictions,
        training.losses,
        spec.window_size,
    )
    return predictions, model_path, plot_path


def _report_pearson(
    evaluation: Any, held_out: str, names: list[str], say: Callable[[str], None]
) -> tuple[float, float]:
    """Says each track's held-out r beside its shuffled-windows baseline, and the means with the
    verdict; returns (mean r, mean baseline)."""
    say(
        f"held-out {held_out} ({len(evaluation.starts):,} windows, {evaluation.true.shape[1]:,} bins each): "
        f"Pearson r of predicted against true profiles"
    )
    for name, r, base in zip(names, evaluation.pearson, evaluation.shuffled_pearson):
        say(f"  {name:<14} r = {float(r):.3f}   shuffled windows: r = {float(base):+.3f}")
    mean, baseline = float(np.mean(evaluation.pearson)), float(np.mean(evaluation.shuffled_pearson))
    verdict = "clearly beats" if mean - baseline >= CLEAR_MARGIN else "does NOT clearly beat"
    say(f"  mean           r = {mean:.3f}   shuffled windows: r = {baseline:+.3f}  ({verdict} the baseline)")
    return mean, baseline


def _report_locations(
    data: Dataset,
    output: Path,
    held_out: str,
    plot_path: Path,
    model_path: Path,
    metrics_path: Path,
    say: Callable[[str], None],
) -> None:
    say("where everything is:")
    say(f"  genome       {data.genome}")
    say(f"  tracks       {data.track_dir}/ ({', '.join(p.name for p in data.tracks)})")
    say(f"  predictions  {output / 'predictions'}/ ({held_out} only)")
    say(f"  plot         {plot_path}")
    say(f"  model        {model_path}")
    say(f"  metrics      {metrics_path}")


def ensure_dataset(spec: DatasetSpec, directory: Path) -> tuple[Dataset, bool]:
    """The dataset of `spec` in `directory`, generated when missing. Returns it and whether it
    was generated now. It is generated in a temporary folder that is renamed when complete, so
    an interrupted run never leaves a half dataset under the real name."""
    folder = directory / f"data-{spec.key()}"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        return _load(folder, json.loads(manifest.read_text())), False
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".data-{spec.key()}.{os.getpid()}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    try:
        data = generate(spec, partial)
        description = {
            "bigwig_loader": bigwig_loader.__version__,
            "spec": asdict(spec),
            "genome": data.genome.name,
            "tracks": [str(p.relative_to(partial)) for p in data.tracks],
            "chrom_sizes": data.chrom_sizes,
        }
        (partial / "manifest.json").write_text(json.dumps(description, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    try:
        os.rename(partial, folder)
    except OSError:
        if not manifest.is_file():  # not another run finishing first: a real failure
            raise
        shutil.rmtree(partial)
    return _load(folder, json.loads(manifest.read_text())), True


def _load(folder: Path, description: dict[str, Any]) -> Dataset:
    return Dataset(
        folder,
        folder / description["genome"],
        sorted((folder / p for p in description["tracks"]), key=str),
        {k: int(v) for k, v in description["chrom_sizes"].items()},
    )


def write_predictions(evaluation: Any, data: Dataset, directory: Path, window_size: int) -> list[Path]:
    """One bigWig per track with the predicted profile of the held-out chromosome (its windows
    are adjacent, so each track's prediction is one dense array), written with bigwig_loader's
    own writer."""
    paths = []
    for t, track in enumerate(data.tracks):
        path = directory / f"{track.stem}.predicted.bw"
        with bigwig_loader.BigWigWriter(path, dict(data.chrom_sizes)) as writer:
            writer.add_values(
                evaluation.chrom,
                int(evaluation.starts[0]),
                np.ascontiguousarray(evaluation.predicted[:, :, t].reshape(-1)),
                span=window_size,
            )
        paths.append(path)
    return paths


def _require(module: str, what: str) -> Any:
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f'the demo needs {what} ({e}): pip install "bigwig-loader[demo]" (torch and matplotlib), or run '
            "bash scripts/demo.sh, which sets everything up"
        ) from e
