"""bigwig-loader against what users would pick instead, side by side in one process.

Every contender reads identical windows, interleaved: for each batch size, each contender in
turn reads the same batches (the order rotates from round to round). Each contender's first
batch of every point is checked against pyBigWig first (NaN equal to NaN; binned means to
float32 precision), untimed; a fast wrong answer is reported as WRONG, not as fast.

Cases (all by default; pick with --case):
  sweep     1 kb windows at batch 1 to 4,096, 16 tracks (the reference paper's figure)
  tracks    1 kb windows at a few batch sizes, 256 tracks
  enformer  114,688 bp windows averaged into 128 bp bins (Enformer's target), 16 tracks
  dataset   end to end: one-hot sequence + values, PytorchBigWigDataset vs pyfaidx + pyBigWig
  runs      1 kb windows, batch 256, 4 tracks at mean run lengths 1, 5, 20 and 50 bp
  chrombpnet  30,000 peaks, 2,114 bp inputs, 1 kb targets, jitter 500, five epochs, 4 and 16
            tracks: the block cache on and off (benchmarks/epochs.py)
  chrombpnet-genome  the same over the whole hg38-sized genome (peaks ~100 kb apart, so that
            epoch 1 is cold); 16 tracks with cache_bytes=8 GiB and no preloaded twin (memory).
            Writes ~7 GB of tracks and a 3.1 GB FASTA on first use.

Contenders: bigwig_loader get_batch (CPU; CUDA too when this build's get_batch takes a device
and a GPU is visible), bigwig_loader BigWig.values, pyBigWig, pybigtools and pybbi looping over
windows, and pyBigWig in a torch DataLoader with 1, 2 and N worker processes.

    .venv/bin/python benchmarks/harness.py [--quick] [--case sweep tracks ...] [--device cuda]
                                           [--plot benchmarks/sweep.png] [--report out.md]

Never run by the test suite. The corpus is written on first use under benchmarks/out/.
"""

from __future__ import annotations

import argparse
import importlib.util
import datetime
import importlib.metadata
import inspect
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bigwig_loader  # noqa: E402
import contenders  # noqa: E402
import corpus  # noqa: E402
import end_to_end  # noqa: E402
import epochs  # noqa: E402
from bigwig_loader import throughput  # noqa: E402

OURS = "bigwig_loader get_batch"
CHECK_WINDOWS = 256


@dataclass
class Case:
    name: str
    title: str
    tracks: int
    length: int
    bin_size: int
    batch_sizes: list[int]
    windows_per_point: int  # timed windows per batch size (at least one batch)
    rounds: int
    spec: corpus.TrackSpec = field(default_factory=corpus.TrackSpec)
    label: Callable[[int], str] = lambda b: f"batch {b:,}"


@dataclass
class Point:
    windows_per_second: float | None = None
    verdict: str = ""


def draw_batches(spec: corpus.TrackSpec, sizes: list[int], length: int, rng: np.random.Generator):
    """Windows uniform over the corpus chromosomes, wholly inside them (pyBigWig refuses others)."""
    names = list(spec.chroms)
    weights = np.asarray([corpus.HG38_SIZES[c] for c in names], dtype=float)
    out = []
    for n in sizes:
        chroms = np.asarray(names)[rng.choice(len(names), n, p=weights / weights.sum())]
        starts = np.asarray([rng.integers(0, corpus.HG38_SIZES[c] - length) for c in chroms], dtype=np.int64)
        out.append((chroms, starts, starts + length))
    return out


def same_values(got: np.ndarray, want: np.ndarray, binned: bool) -> bool:
    try:
        if binned:  # float32 means against pyBigWig's double means
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5, equal_nan=True)
        else:
            np.testing.assert_array_equal(got, want.astype(np.float32))
    except AssertionError:
        return False
    return got.shape == want.shape


def build_readers(case: Case, paths: list[Path], table: contenders.WindowTable, device: str):
    readers: dict[str, object] = {
        OURS + " (cpu)": contenders.ours(paths, case.bin_size),
        OURS + " (cpu, cache_bytes=0)": contenders.ours(paths, case.bin_size, cache_bytes=0),
    }
    if device != "cpu":
        readers[f"{OURS} ({device})"] = contenders.ours(paths, case.bin_size, device=device)
    if case.bin_size == 1:
        readers["bigwig_loader BigWig.values loop"] = contenders.ours_single_file_loop(paths, 1)
    readers[contenders.ORACLE] = contenders.pybigwig_loop(paths, case.bin_size)
    readers["pybigtools loop"] = contenders.pybigtools_loop(paths, case.bin_size)
    readers["pybigtools loop, cache emptied each pass"] = contenders.pybigtools_loop(
        paths, case.bin_size, fresh_cache=True
    )
    if importlib.util.find_spec("bbi") is not None:  # optional: the report's header says when it is missing
        readers["pybbi loop"] = contenders.pybbi_loop(paths, case.bin_size)
    for w in contenders.dataloader_worker_counts():
        readers[f"pyBigWig DataLoader, {w} worker{'s' if w > 1 else ''}"] = contenders.DataLoaderContender(
            table, paths, case.bin_size, w
        )
    return readers


def run_pass(reader, table: contenders.WindowTable, batch_numbers: list[int]) -> tuple[float, list[np.ndarray]]:
    if hasattr(reader, "before_pass"):
        reader.before_pass()
    t0 = time.perf_counter()
    if isinstance(reader, contenders.DataLoaderContender):
        outputs = reader.run_pass(batch_numbers)
    else:
        outputs = [
            reader(table.chroms[table.rows[b]], table.starts[table.rows[b]], table.ends[table.rows[b]])
            for b in batch_numbers
        ]
    return time.perf_counter() - t0, outputs


def run_case(case: Case, device: str, rng: np.random.Generator) -> dict[str, dict[int, Point]]:
    paths = corpus.ensure_corpus(case.tracks, case.spec)
    # Per batch size: one check batch (at most CHECK_WINDOWS windows: checking is slow and
    # untimed), then the timed batches.
    # At least as many timed batches as the largest DataLoader has workers, so that every worker
    # has a batch to load (a DataLoader hands out whole batches).
    least = max(contenders.dataloader_worker_counts())
    plan = {b: 1 + max(least, math.ceil(case.windows_per_point / b)) for b in case.batch_sizes}
    sizes = [n for b in case.batch_sizes for n in [min(b, CHECK_WINDOWS)] + [b] * (plan[b] - 1)]
    table = contenders.WindowTable(draw_batches(case.spec, sizes, case.length, rng))
    readers = build_readers(case, paths, table, device)
    results: dict[str, dict[int, Point]] = {name: {} for name in readers}
    first = 0
    for b in case.batch_sizes:
        check, timed = first, list(range(first + 1, first + plan[b]))
        first += plan[b]
        want = None
        for name in [contenders.ORACLE] + [n for n in readers if n != contenders.ORACLE]:
            _, (raw,) = run_pass(readers[name], table, [check])
            got = contenders.as_numpy(raw)
            want = got if want is None else want
            ok = same_values(got, want, case.bin_size > 1)
            results[name][b] = Point(verdict="oracle" if name == contenders.ORACLE else "same" if ok else "WRONG")
        best = {name: math.inf for name in readers}
        names = list(readers)
        for r in range(case.rounds):  # the first contender of a round moves on with every round and point
            turn = (r + case.batch_sizes.index(b)) % len(names)
            for name in names[turn:] + names[:turn]:
                best[name] = min(best[name], run_pass(readers[name], table, timed)[0])
        for name in readers:
            results[name][b].windows_per_second = len(timed) * b / best[name]
        print(f"  {case.name}: {case.label(b)} done", file=sys.stderr, flush=True)
    return results


def inflate_floor(case: Case, batch_size: int, rng: np.random.Generator) -> str:
    """libdeflate alone inflating exactly the unique blocks a batch needs, from memory, on the
    same threads: the CPU processor's floor (a benchmark-only measurement, bigwig_loader._bench,
    built with -Ccmake.define.BWL_BUILD_BENCH=ON as scripts/setup.sh does; "" without it)."""
    try:
        from bigwig_loader import _bench
    except ImportError:
        print("inflate floor skipped: bigwig_loader._bench is not built (BWL_BUILD_BENCH=ON)", file=sys.stderr)
        return ""
    collection = bigwig_loader.BigWigCollection(corpus.ensure_corpus(case.tracks, case.spec))
    ((chroms, starts, _),) = draw_batches(case.spec, [batch_size], case.length, rng)
    request = collection.batch_request(chroms, starts, np.asarray(starts) + case.length)
    f = _bench.inflate_floor(collection.core_collection, request, collection.n_threads, 5)
    return (
        f"inflate floor at batch {batch_size:,}: {f['blocks']:,} unique blocks ({f['inflated_bytes'] / 1e6:.1f} MB "
        f"inflated) in {f['seconds'] * 1e3:.1f} ms = {batch_size / f['seconds']:,.0f} windows/s"
    )


def table_markdown(case: Case, results: dict[str, dict[int, Point]]) -> str:
    sizes = case.batch_sizes
    lines = ["| contender | " + " | ".join(case.label(b) for b in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    base = results[contenders.ORACLE]
    for name, points in results.items():
        cells = []
        for b in sizes:
            p = points[b]
            if p.verdict == "WRONG":
                cells.append("WRONG")
            else:
                cells.append(f"{p.windows_per_second:,.0f} ({p.windows_per_second / base[b].windows_per_second:.1f}x)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    versions = []
    for dist in ("bigwig-loader", "numpy", "torch", "pyBigWig", "pybigtools", "pybbi", "pyfaidx"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist} not installed")
    gpu = "none visible to bigwig-loader"
    if bigwig_loader.cuda_available():
        import torch

        gpu = torch.cuda.get_device_name(0)
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {mem_kb / 2**20:.0f} GiB RAM, GPU: {gpu}; {platform.platform()}; "
        f"Python {platform.python_version()}; {', '.join(versions)}; inflate: {bigwig_loader.inflate_backend}"
    )


def cases(quick: bool) -> dict[str, Case | None]:
    if quick:
        return {
            "sweep": Case("sweep", "1 kb windows, 4 tracks, batch-size sweep", 4, 1000, 1, [1, 16, 64], 64, 1),
            "tracks": Case("tracks", "1 kb windows, 8 tracks", 8, 1000, 1, [16], 16, 1),
            "enformer": Case("enformer", "114,688 bp windows in 128 bp bins, 4 tracks", 4, 114_688, 128, [2], 2, 1),
            "runs": None,
            "dataset": None,
        }
    chr22 = corpus.TrackSpec(chroms=("chr22",))
    return {
        "sweep": Case(
            "sweep", "1 kb windows, 16 tracks, batch-size sweep", 16, 1000, 1, [1, 4, 16, 64, 256, 1024, 4096], 256, 2
        ),
        "tracks": Case("tracks", "1 kb windows, 256 tracks (chr22)", 256, 1000, 1, [16, 64, 256], 64, 2, chr22),
        "enformer": Case(
            "enformer",
            "114,688 bp windows in 128 bp bins (Enformer's target), 16 tracks",
            16,
            114_688,
            128,
            [1, 8, 32],
            32,
            2,
        ),
        "runs": None,
        "dataset": None,
    }


def run_lengths_cases(quick: bool) -> list[Case]:
    """One case a mean run length: what a base-resolution track (1 bp runs: a block covers ~1 kb)
    costs against a fold-change track (50 bp: ~50 kb a block). chr21 only, few tracks, so the
    1 bp corpus stays small."""
    out = []
    for run in (1, 5, 20, 50):
        spec = corpus.TrackSpec(chroms=("chr21",), mean_run=run)
        tracks = 2 if quick else 4
        out.append(
            Case(
                f"runs{run}",
                f"1 kb windows, {tracks} tracks, mean run {run} bp",
                tracks,
                1000,
                1,
                [64 if quick else 256],
                64 if quick else 512,
                1 if quick else 2,
                spec,
                label=lambda b, run=run: f"run {run} bp, batch {b}",
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in under a minute")
    ap.add_argument(
        "--case",
        nargs="+",
        choices=["sweep", "tracks", "enformer", "dataset", "runs", "chrombpnet", "chrombpnet-genome"],
        default=["sweep", "tracks", "enformer", "dataset"],
    )
    ap.add_argument("--device", default="cpu", help="also run bigwig_loader on this device (cuda, cuda:N)")
    ap.add_argument("--plot", type=Path, help="PNG of windows/s against batch size (sweep case)")
    ap.add_argument("--report", type=Path, help="also write the Markdown report here")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    throughput.check_device(args.device)
    if args.device != "cpu" and "device" not in inspect.signature(bigwig_loader.BigWigCollection.get_batch).parameters:
        ap.error(f"--device {args.device}: this build's BigWigCollection.get_batch takes no device argument")
    if args.plot:
        throughput.require_matplotlib()

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    command = "python benchmarks/harness.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    report: list[str] = []

    def emit(*lines: str) -> None:  # printed as each case ends, so a failure keeps what ran
        report.extend(lines)
        print("\n".join(lines), flush=True)

    emit(f"Command: `{command}`  ", f"Date: {datetime.date.today().isoformat()}  ", f"Machine: {machine()}", "")
    all_cases = cases(args.quick)
    selected: list[Case] = []
    for name in [n for n in args.case if not n.startswith("chrombpnet")]:  # those run on their own, below
        selected += run_lengths_cases(args.quick) if name == "runs" else [all_cases[name]] if all_cases[name] else []
    sweep_results = None
    for case in selected:
        results = run_case(case, args.device, rng)
        sweep_results = results if case.name == "sweep" else sweep_results
        emit(
            f"### {case.title}",
            "",
            f"windows/s (and x pyBigWig); at least {case.windows_per_point:,} timed windows a batch size, "
            f"best of {case.rounds} interleaved round{'s' if case.rounds > 1 else ''}; every output checked "
            "against pyBigWig on a first batch (WRONG in place of a speed where it differs)",
            "",
            table_markdown(case, results),
            "",
        )
        if case.name == "sweep":
            floor = inflate_floor(case, 256, rng)
            if floor:
                emit(floor, "")
    if "dataset" in args.case:
        rows, what = end_to_end.run(4 if args.quick else 16, 32 if args.quick else 256, 2 if args.quick else 8)
        base = next(s for n, s, _ in rows if n.endswith("num_workers=0"))
        emit(
            "### End to end: sequence + values for training",
            "",
            what,
            "",
            "| contender | samples/s | vs num_workers=0 | output |",
            "|---|---:|---:|---|",
            *[f"| {n} | {s:,.0f} | {s / base:.1f}x | {v} |" for n, s, v in rows],
            "",
        )
    if "chrombpnet" in args.case:
        emit(
            "### ChromBPNet-shaped: five epochs over 30,000 peaks, the block cache on and off",
            "",
            "samples/s (one-hot 2,114 bp sequence + the 1,000 bp centre of every track, batch 64)",
            "",
        )
        for tracks in (2,) if args.quick else (4, 16):
            emit(*epochs.run(tracks, rng, 1_000 if args.quick else epochs.PEAKS))
    if "chrombpnet-genome" in args.case:
        emit(
            "### ChromBPNet-shaped over the whole genome: a cold first epoch",
            "",
            "samples/s, as above; 30,000 peaks over the 3.1 Gb of hg38's sizes lie ~100 kb apart, farther than a data "
            "block reaches, so epoch 1 decodes most of the blocks it reads",
            "",
        )
        genome = corpus.GENOME_CHROMS
        emit(*epochs.run(4, rng, epochs.PEAKS, chroms=genome))
        emit(*epochs.run(16, rng, epochs.PEAKS, chroms=genome, cache_bytes=8 << 30, with_preload=False))
    emit(f"Total time: {time.perf_counter() - started:.0f} s")
    if args.report:
        args.report.write_text("\n".join(report) + "\n")
    if args.plot and sweep_results:
        series = {
            n: [(b, p.windows_per_second) for b, p in pts.items() if p.verdict != "WRONG"]
            for n, pts in sweep_results.items()
        }
        sweep_case = all_cases["sweep"]
        throughput.plot_sweep(series, args.plot, f"{sweep_case.title}; {os.cpu_count()} CPUs")
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
