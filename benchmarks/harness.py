"""bigwig_loader against what users would pick instead, each reader in a process of its own.

Every contender lives in a long-lived worker process (benchmarks/workers.py, multiprocessing's
'spawn' context), which opens its files once, untimed, and then waits on its pipe; the harness
drives them one at a time, so only one contender works while the others block. The windows are
drawn here, once per set of files, and sent to every worker, so all read identical windows.
For each point (a batch size over some files): every contender reads the same check batch,
pyBigWig first, and the harness compares each output with pyBigWig's (exactly at base
resolution, NaN equal to NaN; binned means to float32 precision), untimed; a fast wrong answer
is reported as WRONG, not as fast. Then, round after round, each contender in turn times one
pass over the same timed batches (the first contender rotating from round to round and point
to point) and the best pass counts. bigwig_loader's block cache is on in "get_batch (cpu)",
warm from the rounds before (as a training loop that revisits windows sees it), and off in
"cache_bytes=0". --one-process runs every contender in this process instead, as the harness
did before issue 25.

Cases (sweep, tracks, enformer and dataset by default; pick with --case):
  sweep     1 kb windows at batch 1 to 4,096, 16 tracks (the reference paper's figure)
  tracks    1 kb windows at a few batch sizes, 256 tracks
  enformer  114,688 bp windows averaged into 128 bp bins (Enformer's target), 16 tracks
  long      114,688 bp windows at single bases, 16 tracks (not run by default)
  dataset   end to end: one-hot sequence + values, PytorchBigWigDataset vs pyfaidx + pyBigWig
  runs      1 kb windows, batch 256, 4 tracks at mean run lengths 1, 5, 20 and 50 bp
  figwig    issue 25's rows: 16 tracks at batch 1, 256 and 4,096; the real ENCODE track
            ENCFF826FLP (or, where the shared data is missing, a 1-track corpus standing in:
            the report says so) at batch 4,096 and at 50,000 windows in one call (figwig's own
            use); a row a point, with ours (cache off, on) over the fastest other reader
  grid      1, 4, 16, 256 and 1,000 tracks (one chr22 corpus, ~7 MB a track: 7.3 GB for 1,000)
            x batch 1, 16, 256, 4,096, 16,384 and 100,000 of 1 kb windows; a batch whose output
            passes --max-output-gib (1 GiB) is lowered to the largest power of two under it, or
            skipped where that batch is measured already (the report lists both); plots with
            --plot-dir: windows/s against batch size (a panel a track count) and against tracks
            at batch 256
  chrombpnet  30,000 peaks, 2,114 bp inputs, 1 kb targets, jitter 500, five epochs, 4 and 16
            tracks: the block cache on and off (benchmarks/epochs.py)
  chrombpnet-genome  the same over the whole hg38-sized genome (peaks ~100 kb apart, so that
            epoch 1 is cold); 16 tracks with cache_bytes=8 GiB and no preloaded twin (memory).
            Writes ~7 GB of tracks and a 3.1 GB FASTA on first use.

Contenders: bigwig_loader get_batch (CPU, block cache on and off; CUDA too when this build's
get_batch takes a device and a GPU is visible), figwig read_bigwig (figwig.BigWigReader for
every file, n_jobs = every CPU; with 128 bp bins it reads bases and numpy averages them), and
pyBigWig, pybigtools and pybbi (where installed) looping over windows; the older cases also
time bigwig_loader BigWig.values in a loop, pybigtools with its cache emptied each batch, and
pyBigWig in a torch DataLoader with 1, 2 and N worker processes (forked from its worker). In the
figwig and grid cases a loop reader whose pass would take over --slow-pass seconds (10), judged
by its rate at its previous point, is skipped there ("skipped (slow)").

    .venv/bin/python benchmarks/harness.py [--quick] [--case sweep tracks figwig grid ...] [--device cuda]
                                           [--plot benchmarks/sweep.png] [--plot-dir benchmarks/]
                                           [--report out.md] [--one-process]

Never run by the test suite. The corpus is written on first use under benchmarks/out/.
"""

from __future__ import annotations

import argparse
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
import plots  # noqa: E402
import workers  # noqa: E402
from bigwig_loader import throughput  # noqa: E402

OURS = "bigwig_loader get_batch"
OURS_ON = OURS + " (cpu)"  # the block cache on (the default), warm from the interleaved rounds
OURS_OFF = OURS + " (cpu, cache_bytes=0)"
CHECK_WINDOWS = 256
CHECK_TRACK_WINDOWS = 16_384  # figwig and grid cases: a check batch of about this many windows x tracks


@dataclass
class Source:
    """Files every contender opens (untimed) for some points, and the chromosome sizes that their
    windows are drawn over."""

    label: str
    paths: list[Path]
    chrom_sizes: dict[str, int]

    @property
    def tracks(self) -> int:
        return len(self.paths)


@dataclass
class Plan:
    """One point: `timed_batches` batches of `batch` windows over `source` a timed pass, after an
    untimed check batch of `check_windows`."""

    label: str
    source: Source
    batch: int
    timed_batches: int
    check_windows: int
    asked: int | None = None  # the batch size asked for, where the output cap lowered it

    @property
    def timed_windows(self) -> int:
        return self.batch * self.timed_batches


def check_windows(batch: int, tracks: int) -> int:
    """A check batch: at most CHECK_WINDOWS windows and about CHECK_TRACK_WINDOWS windows x tracks
    (pyBigWig reads it, untimed, at every point)."""
    return min(batch, CHECK_WINDOWS, max(16, CHECK_TRACK_WINDOWS // tracks))


@dataclass
class Case:
    """A case of one corpus at several batch sizes: its table has a row a contender."""

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

    def plans(self, least: int) -> list[Plan]:
        """At least `least` timed batches a point (as many as the largest DataLoader has workers,
        so that every worker has a batch to load: a DataLoader hands out whole batches)."""
        source = Source(
            f"{self.tracks} tracks",
            corpus.ensure_corpus(self.tracks, self.spec),
            {c: corpus.HG38_SIZES[c] for c in self.spec.chroms},
        )
        return [
            Plan(self.label(b), source, b, max(least, math.ceil(self.windows_per_point / b)), min(b, CHECK_WINDOWS))
            for b in self.batch_sizes
        ]


@dataclass
class PointCase:
    """A case of points that need not share files or a batch size (issue 25's rows, the grid):
    its table has a row a point, with the ratio of ours to the fastest other reader. `make`
    writes any corpus it needs and returns the points and notes on them (capped, skipped, a
    stand-in file). A loop reader (pyBigWig, pybigtools, pybbi: its time grows with windows x
    tracks) whose pass would take more than `slow_pass` seconds, judged by its windows x tracks
    a second at its previous point, is skipped there."""

    name: str
    title: str
    rounds: int
    slow_pass: float | None
    make: Callable[[], tuple[list[Plan], list[str]]]
    length: int = 1000
    bin_size: int = 1


@dataclass
class Point:
    windows_per_second: float | None = None
    verdict: str = ""


def draw_batches(chrom_sizes: dict[str, int], sizes: list[int], length: int, rng: np.random.Generator):
    """Windows uniform over the chromosomes, wholly inside them (pyBigWig refuses others)."""
    names = list(chrom_sizes)
    weights = np.asarray([chrom_sizes[c] for c in names], dtype=float)
    out = []
    for n in sizes:
        chroms = np.asarray(names)[rng.choice(len(names), n, p=weights / weights.sum())]
        starts = np.asarray([rng.integers(0, chrom_sizes[c] - length) for c in chroms], dtype=np.int64)
        out.append((chroms, starts, starts + length))
    return out


def same_values(got: np.ndarray, want: np.ndarray, binned: bool) -> bool:
    """Exact at base resolution (NaN equal to NaN); binned means to float32 precision."""
    try:
        if binned:  # float32 means against pyBigWig's double means
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5, equal_nan=True)
        else:
            np.testing.assert_array_equal(got, want.astype(np.float32))
    except AssertionError:
        return False
    return got.shape == want.shape


def figwig_name(bin_size: int) -> str:
    return "figwig read_bigwig" if bin_size == 1 else "figwig read_bigwig + numpy bins"


def contender_set(bin_size: int, device: str, every: bool) -> list[contenders.Contender]:
    """The contenders of a case, pyBigWig (the oracle) among them; `every`: the older cases' full
    set, with BigWig.values, pybigtools with its cache emptied and the pyBigWig DataLoaders.
    Contenders whose package is not installed are left out (the machine line says which)."""
    C = contenders.Contender
    out = [C(OURS_ON, "ours"), C(OURS_OFF, "ours", (("cache_bytes", 0),))]
    if device != "cpu":
        out.append(C(f"{OURS} ({device})", "ours", (("device", device),)))
    if every:
        if bin_size == 1:
            out.append(C("bigwig_loader BigWig.values loop", "values_loop"))
        out += [
            C(contenders.ORACLE, "pybigwig"),
            C("pybigtools loop", "pybigtools"),
            C(PYBIGTOOLS_COLD, "pybigtools", (("fresh_cache", True),)),
            C("pybbi loop", "pybbi"),
            C(figwig_name(bin_size), "figwig"),
        ]
        out += [
            C(f"pyBigWig DataLoader, {w} worker{'s' if w > 1 else ''}", "dataloader", (("workers", w),))
            for w in contenders.dataloader_worker_counts()
        ]
    else:
        out += [
            C(figwig_name(bin_size), "figwig"),
            C("pybigtools loop", "pybigtools"),
            C(PYBIGTOOLS_COLD, "pybigtools", (("fresh_cache", True),)),
            C(contenders.ORACLE, "pybigwig"),
            C("pybbi loop", "pybbi"),
        ]
    return [c for c in out if contenders.installed(c.kind)]


class Runner:
    """Runs the points of a case over the contenders' workers (benchmarks/workers.py).

    Per run of points over the same files: one window table, drawn here and sent to every
    worker with its files to open. Per point: every contender reads the check batch, pyBigWig
    first, and the parent compares; then, round after round, the contenders time a pass over
    the timed batches one at a time, the first of a round moving on with every round and point;
    the best pass counts."""

    def __init__(self, pool: workers.Pool, rng: np.random.Generator):
        self.pool, self.rng = pool, rng
        self.started = time.perf_counter()

    def run(
        self,
        case_name: str,
        plans: list[Plan],
        contender_list: list[contenders.Contender],
        length: int,
        bin_size: int,
        rounds: int,
        slow_pass: float | None,
    ) -> list[dict[str, Point]]:
        names = [c.name for c in contender_list]
        self.loops = {c.name for c in contender_list if c.loop}
        if contenders.ORACLE not in names:
            raise RuntimeError("pyBigWig is needed: every output is checked against it")
        self.workers = {c.name: self.pool.get(c) for c in contender_list}
        self.alive = list(names)
        self.rate: dict[str, float] = {}  # windows x tracks a second at each contender's last point
        results: list[dict[str, Point]] = [{n: Point() for n in names} for _ in plans]
        i = 0
        while i < len(plans):
            j = i
            while j < len(plans) and plans[j].source is plans[i].source:
                j += 1
            sizes = [n for p in plans[i:j] for n in [p.check_windows] + [p.batch] * p.timed_batches]
            source = plans[i].source
            table = contenders.WindowTable(draw_batches(source.chrom_sizes, sizes, length, self.rng))
            opening = list(self.alive)
            for n in opening:  # every worker opens its files at once (untimed), then all are awaited
                self._ask(n, "send", "open", source.paths, bin_size, table)
            failed = {n for n in opening if n in self.alive and self._ask(n, "receive") is _FAILED}
            first = 0
            for k in range(i, j):
                check, timed = first, list(range(first + 1, first + 1 + plans[k].timed_batches))
                first += 1 + plans[k].timed_batches
                for n in failed:
                    results[k][n].verdict = "error"
                self._point(k, plans[k], check, timed, results[k], rounds, slow_pass, bin_size > 1, failed)
                elapsed = time.perf_counter() - self.started
                print(f"  {case_name}: {plans[k].label} done ({elapsed:.0f} s)", file=sys.stderr, flush=True)
            i = j
        return results

    def _ask(self, name: str, how: str, *args):
        """A request to one worker (send or receive); _FAILED, with the error printed, when it
        fails; a worker whose process died is dropped for the rest of the run."""
        try:
            return getattr(self.workers[name], how)(*args)
        except workers.ContenderError as e:
            print(f"error: {e}", file=sys.stderr, flush=True)
            if isinstance(self.workers[name], workers.Remote) and not self.workers[name].process.is_alive():
                self.alive.remove(name)
                self.pool.drop(name)
            return _FAILED

    def _call(self, name: str, method: str, *args):
        sent = self._ask(name, "send", method, *args)
        return sent if sent is _FAILED else self._ask(name, "receive")

    def _point(self, index, plan, check, timed, out, rounds, slow_pass, binned, failed) -> None:
        work = plan.timed_windows * plan.source.tracks
        timing = []
        for n in [n for n in self.alive if n not in failed]:
            est = work / self.rate[n] if n in self.rate else 0.0
            if slow_pass is not None and n in self.loops and est > slow_pass:
                out[n].verdict = f"skipped (slow: ~{est:.2g} s a pass)"
            else:
                timing.append(n)
        want = None
        for n in [contenders.ORACLE] + [n for n in timing if n != contenders.ORACLE]:
            if n not in self.alive or n in failed:
                out[n].verdict = "error"
                continue
            got = self._call(n, "check", check)
            if got is _FAILED:
                out[n].verdict = "error"
                if n in timing:
                    timing.remove(n)
            elif n == contenders.ORACLE:
                want = got
                out[n].verdict = out[n].verdict or "oracle"
            else:
                out[n].verdict = "unchecked" if want is None else "same" if same_values(got, want, binned) else "WRONG"
        best = {n: math.inf for n in timing}
        for r in range(rounds):
            turn = (r + index) % len(timing) if timing else 0
            for n in timing[turn:] + timing[:turn]:
                if n in best and n in self.alive:
                    seconds = self._call(n, "time_pass", timed)
                    if seconds is _FAILED:
                        out[n].verdict = "error"
                        del best[n]
                    else:
                        best[n] = min(best[n], seconds)
        for n, seconds in best.items():
            if seconds < math.inf:
                out[n].windows_per_second = plan.timed_windows / seconds
                self.rate[n] = work / seconds


_FAILED = object()


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
    sizes = {c: corpus.HG38_SIZES[c] for c in case.spec.chroms}
    ((chroms, starts, _),) = draw_batches(sizes, [batch_size], case.length, rng)
    request = collection.batch_request(chroms, starts, np.asarray(starts) + case.length)
    f = _bench.inflate_floor(collection.core_collection, request, collection.n_threads, 5)
    return (
        f"inflate floor at batch {batch_size:,}: {f['blocks']:,} unique blocks ({f['inflated_bytes'] / 1e6:.1f} MB "
        f"inflated) in {f['seconds'] * 1e3:.1f} ms = {batch_size / f['seconds']:,.0f} windows/s"
    )


def cell(p: Point, base: Point | None = None) -> str:
    """A speed, "WRONG" in place of it, or why there is none; with `base`, x base."""
    if p.verdict == "WRONG" or p.windows_per_second is None:
        return p.verdict or "-"
    if base is None or not base.windows_per_second:
        return f"{p.windows_per_second:,.0f}"
    return f"{p.windows_per_second:,.0f} ({p.windows_per_second / base.windows_per_second:.1f}x)"


def table_by_contender(plans: list[Plan], results: list[dict[str, Point]]) -> str:
    """A row a contender, a column a point, each speed also as x pyBigWig."""
    lines = ["| contender | " + " | ".join(p.label for p in plans) + " |", "|---|" + "---:|" * len(plans)]
    for name in results[0]:
        cells = [cell(r[name], r[contenders.ORACLE]) for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


PYBIGTOOLS_COLD = "pybigtools loop, cache emptied each batch"
# Readers whose timed passes are served from a cache the earlier rounds filled (the same windows
# each round): warm, so compared with ours cache on, not with ours cache off.
WARM_OTHERS = {"pybigtools loop"}


def fastest_other(points: dict[str, Point], cold: bool = False) -> tuple[str, float] | None:
    """The fastest reader that is not this library's, among those measured and correct; `cold`:
    only those that read without a cache warmed by earlier rounds."""
    others = [
        (p.windows_per_second, n)
        for n, p in points.items()
        if not n.startswith("bigwig_loader")
        and p.windows_per_second
        and p.verdict in ("oracle", "same")
        and not (cold and n in WARM_OTHERS)
    ]
    return (max(others)[1], max(others)[0]) if others else None


def outputs(points: dict[str, Point]) -> str:
    """What the check found at a point: "all same" when every contender checked gave pyBigWig's
    values, else which did not."""
    odd = [f"{n}: {p.verdict}" for n, p in points.items() if p.verdict in ("WRONG", "error", "unchecked")]
    same = sum(p.verdict == "same" for p in points.values())
    return "; ".join(odd) if odd else f"all same ({same} checked)"


# Issue 25's goals: ours cache off against the fastest other cold reader, cache on (warm)
# against the fastest other reader, warm or not.
RATIOS = ((OURS_OFF, "cache off", 1.5, True), (OURS_ON, "cache on", 3.0, False))


def table_by_point(plans: list[Plan], results: list[dict[str, Point]]) -> tuple[str, list[str]]:
    """A row a point, a column a contender, then ours (cache off, on) over the fastest other
    reader at that point; and a line a goal saying where it is met."""
    names = list(results[0])
    ratios = [(n, what, goal, cold) for n, what, goal, cold in RATIOS if n in names]
    head = (
        ["point"]
        + names
        + [f"{what} ÷ fastest other{' cold' if cold else ''} (goal {goal:g}x)" for _, what, goal, cold in ratios]
        + ["outputs"]
    )
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    met = {n: [0, 0] for n, *_ in ratios}
    for plan, points in zip(plans, results):
        row = [plan.label] + [cell(points[n]) for n in names]
        for n, _, goal, cold in ratios:
            best = fastest_other(points, cold)
            ours = points[n]
            if best is None or not ours.windows_per_second or ours.verdict != "same":
                row.append("-")
                continue
            ratio = ours.windows_per_second / best[1]
            met[n][0] += ratio >= goal
            met[n][1] += 1
            row.append(f"{ratio:.2f}x ({best[0]})")
        row.append(outputs(points))
        lines.append("| " + " | ".join(row) + " |")
    summary = [
        f"{what} at least {goal:g}x the fastest other reader: {met[n][0]} of {met[n][1]} points"
        for n, what, goal, _ in ratios
    ]
    return "\n".join(lines), summary


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    versions = []
    for dist in (
        "bigwig-loader",
        "numpy",
        "torch",
        "pyBigWig",
        "pybigtools",
        "pybbi",
        "pyfaidx",
        "figwig",
        "numba",
        "isal",
    ):
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
            "long": Case("long", "114,688 bp windows at single bases, 4 tracks", 4, 114_688, 1, [2], 2, 1),
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
        "long": Case("long", "114,688 bp windows at single bases, 16 tracks", 16, 114_688, 1, [1, 8], 8, 2),
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


def real_track() -> tuple[Source, list[str]]:
    """ENCFF826FLP (ENCODE, chr22 of hg19: $BWL_REAL_DATA/bbi-js/ or the shared data beside the
    clone), or, where it is not found, a 1-track chr22 corpus standing in, and a note saying so."""
    shared = Path(os.environ["BWL_REAL_DATA"]) / "bbi-js" if "BWL_REAL_DATA" in os.environ else None
    path = (shared or corpus.REAL_ENCODE_TRACK.parent) / corpus.REAL_ENCODE_TRACK.name
    if path.exists():
        import pyBigWig

        with pyBigWig.open(str(path)) as f:
            sizes = dict(f.chroms())
        return Source("ENCFF826FLP", [path], sizes), []
    spec = corpus.TrackSpec(chroms=("chr22",))
    note = f"{path} not found: a 1-track corpus ({spec.name}) stands in for ENCFF826FLP"
    print(note, file=sys.stderr)
    return Source(
        "1-track corpus, not ENCFF826FLP", corpus.ensure_corpus(1, spec), {"chr22": corpus.HG38_SIZES["chr22"]}
    ), [note]


def figwig_case(quick: bool) -> PointCase:
    """Issue 25's rows: 16 tracks (the sweep's corpus) at batch 1, 256 and 4,096; one real track
    at 4,096 windows a batch and at 50,000 windows in one call (figwig's own use: every window of
    a training set at once)."""

    def make() -> tuple[list[Plan], list[str]]:
        n = 4 if quick else 16
        spec = corpus.TrackSpec()
        sixteen = Source(f"{n} tracks", corpus.ensure_corpus(n, spec), {c: corpus.HG38_SIZES[c] for c in spec.chroms})
        windows = 64 if quick else 1024  # timed a pass, at least one batch
        plans = [
            Plan(f"{n} tracks × 1 kb, batch {b:,}", sixteen, b, math.ceil(windows / b), check_windows(b, n))
            for b in ((1, 64) if quick else (1, 256, 4096))
        ]
        real, notes = real_track()
        batch, batches, one_call = (256, 2, 2_000) if quick else (4096, 1, 50_000)
        plans += [
            Plan(f"1 track ({real.label}) × 1 kb, batch {batch:,}", real, batch, batches, check_windows(batch, 1)),
            Plan(
                f"1 track ({real.label}) × 1 kb, {one_call:,} windows in one call",
                real,
                one_call,
                1,
                check_windows(one_call, 1),
            ),
        ]
        return plans, notes

    return PointCase(
        "figwig", "Issue 25's rows: bigwig_loader against figwig and the loop readers", 2 if quick else 5, 10.0, make
    )


def size(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


GRID_TRACKS = (1, 4, 16, 256, 1000)
GRID_BATCHES = (1, 16, 256, 4096, 16_384, 100_000)
GRID_PLOT_BATCH = 256  # the batch of the plot against tracks


def grid_case(quick: bool, max_output_bytes: int) -> PointCase:
    """1 kb windows at every (tracks, batch) of the grid, over one chr22 corpus (track i the same
    file at every track count). A batch whose output (batch x 1,000 x tracks x 4 bytes) passes
    `max_output_bytes` is lowered to the largest power of two under it, and skipped when that
    batch is already a point of its track count. A pass reads at least min(4,096, 16,384 /
    tracks) windows (at least one batch)."""
    tracks_list = (1, 2, 4) if quick else GRID_TRACKS
    batches = (1, 16, 256, 1024) if quick else GRID_BATCHES
    length = 1000

    def make() -> tuple[list[Plan], list[str]]:
        spec = corpus.TrackSpec(chroms=("chr22",))
        paths = corpus.ensure_corpus(max(tracks_list), spec)
        plans, notes = [], []
        for tracks in tracks_list:
            source = Source(f"{tracks} tracks", paths[:tracks], {"chr22": corpus.HG38_SIZES["chr22"]})
            fit = max_output_bytes // (length * tracks * 4)
            seen: set[int] = set()
            for asked in batches:
                batch = asked if asked <= fit else 1 << max(0, fit.bit_length() - 1)
                named = f"{tracks:,} track{'s' if tracks > 1 else ''}"  # "1,000 tracks": no split on ","
                label = f"{named}, batch {batch:,}"
                over = f"its output, {size(asked * length * tracks * 4)}, passes the cap of {size(max_output_bytes)}"
                if batch in seen or fit < 1:
                    notes.append(f"{named}, batch {asked:,}: skipped ({over}; batch {batch:,} is measured)")
                    continue
                if batch < asked:
                    label += f" (asked {asked:,})"
                    notes.append(f"{named}, batch {asked:,}: capped to batch {batch:,} ({over})")
                seen.add(batch)
                windows = max(
                    batch, min(256, math.ceil(1024 / tracks)) if quick else min(4096, math.ceil(16_384 / tracks))
                )
                plans.append(
                    Plan(label, source, batch, math.ceil(windows / batch), check_windows(batch, tracks), asked)
                )
        return plans, notes

    title = (
        f"Grid: 1 kb windows, {', '.join(map(str, tracks_list))} tracks x batch {', '.join(f'{b:,}' for b in batches)}"
    )
    return PointCase("grid", title, 2, 10.0, make)


def plot_grid(plans: list[Plan], results: list[dict[str, Point]], plot_dir: Path) -> list[Path]:
    """windows/s against batch size, a panel a track count; and against tracks at batch 256."""
    names = list(results[0])
    good = [(plan, points) for plan, points in zip(plans, results)]

    def speed(points: dict[str, Point], name: str) -> float | None:
        p = points[name]
        return p.windows_per_second if p.windows_per_second and p.verdict != "WRONG" else None

    panels: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for plan, points in good:
        panel = panels.setdefault(f"{plan.source.tracks:,} track{'s' if plan.source.tracks > 1 else ''}", {})
        for n in names:
            if speed(points, n):
                panel.setdefault(n, []).append((plan.batch, speed(points, n)))
    cpus = f"{os.cpu_count()} CPUs"
    by_batch, by_tracks = plot_dir / "grid_batch.png", plot_dir / "grid_tracks.png"
    plots.plot_panels(panels, by_batch, f"1 kb windows, windows/s against batch size; {cpus}")
    series: dict[str, list[tuple[int, float]]] = {n: [] for n in names}
    for plan, points in good:
        if plan.asked == GRID_PLOT_BATCH and plan.batch == GRID_PLOT_BATCH:
            for n in names:
                if speed(points, n):
                    series[n].append((plan.source.tracks, speed(points, n)))
    plots.plot_panels(
        {"": series}, by_tracks, f"1 kb windows, batch {GRID_PLOT_BATCH}, windows/s against tracks; {cpus}", "tracks"
    )
    return [by_batch, by_tracks]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in under a minute a case")
    ap.add_argument(
        "--case",
        nargs="+",
        choices=[
            "sweep",
            "tracks",
            "enformer",
            "long",
            "dataset",
            "runs",
            "figwig",
            "grid",
            "chrombpnet",
            "chrombpnet-genome",
        ],
        default=["sweep", "tracks", "enformer", "dataset"],
    )
    ap.add_argument("--device", default="cpu", help="also run bigwig_loader on this device (cuda, cuda:N)")
    ap.add_argument("--plot", type=Path, help="PNG of windows/s against batch size (sweep case)")
    ap.add_argument(
        "--plot-dir",
        type=Path,
        help="write the plots here: sweep.png (sweep case), grid_batch.png and grid_tracks.png (grid case)",
    )
    ap.add_argument("--report", type=Path, help="also write the Markdown report here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--one-process",
        action="store_true",
        help="every contender in this process, as before issue 25 (default: each in a worker process of its own)",
    )
    ap.add_argument(
        "--slow-pass",
        type=float,
        help="skip a loop reader (pyBigWig, pybigtools, pybbi, the DataLoaders) at a point whose pass would take "
        "longer than this many seconds, judged by its rate at its previous point (default: 10 s in the figwig "
        "and grid cases, never in the others)",
    )
    ap.add_argument(
        "--max-output-gib",
        type=float,
        help="grid case: cap a batch's output (batch x 1,000 x tracks x 4 bytes) at this (default: 1 GiB; --quick: 2 MiB)",
    )
    args = ap.parse_args()
    throughput.check_device(args.device)
    if args.device != "cpu" and "device" not in inspect.signature(bigwig_loader.BigWigCollection.get_batch).parameters:
        ap.error(f"--device {args.device}: this build's BigWigCollection.get_batch takes no device argument")
    if args.plot or args.plot_dir:
        throughput.require_matplotlib()
    if args.plot_dir:
        args.plot_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    command = "python benchmarks/harness.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    report: list[str] = []

    def emit(*lines: str) -> None:  # printed as each case ends, so a failure keeps what ran
        report.extend(lines)
        print("\n".join(lines), flush=True)

    emit(f"Command: `{command}`  ", f"Date: {datetime.date.today().isoformat()}  ", f"Machine: {machine()}", "")
    where = (
        "every contender in this process (--one-process)"
        if args.one_process
        else "each contender in a worker process of its own, one working at a time"
    )
    all_cases = cases(args.quick)
    max_output = int((args.max_output_gib or (2 / 1024 if args.quick else 1.0)) * 2**30)
    selected: list[Case | PointCase] = []
    for name in [n for n in args.case if n not in ("dataset", "chrombpnet", "chrombpnet-genome")]:  # below
        if name == "runs":
            selected += run_lengths_cases(args.quick)
        elif name == "figwig":
            selected.append(figwig_case(args.quick))
        elif name == "grid":
            selected.append(grid_case(args.quick, max_output))
        elif all_cases[name]:
            selected.append(all_cases[name])
    sweep_results = None
    written: list[Path] = []
    pool = workers.Pool(one_process=args.one_process)
    runner = Runner(pool, rng)
    try:
        for case in selected:
            case_started = time.perf_counter()
            if isinstance(case, PointCase):
                plans, notes = case.make()
                slow = args.slow_pass if args.slow_pass is not None else case.slow_pass
                results = runner.run(
                    case.name,
                    plans,
                    contender_set(case.bin_size, args.device, every=False),
                    case.length,
                    case.bin_size,
                    case.rounds,
                    slow,
                )
                table, summary = table_by_point(plans, results)
                emit(
                    f"### {case.title}",
                    "",
                    f"windows/s; {where}, its files opened once (untimed); best of {case.rounds} interleaved rounds; "
                    "every output checked against pyBigWig on a first batch of the point, exactly (NaN equal to NaN): "
                    "WRONG in place of a speed where it differs"
                    + (
                        f"; a loop reader whose pass would take over {slow:g} s is skipped at that point"
                        if slow
                        else ""
                    )
                    + f" ({time.perf_counter() - case_started:.0f} s)",
                    "",
                    *[f"- {note}" for note in notes],
                    *([""] if notes else []),
                    table,
                    "",
                    *[f"{line}  " for line in summary],
                    "",
                )
                if case.name == "grid" and args.plot_dir:
                    written += plot_grid(plans, results, args.plot_dir)
                continue
            least = max(contenders.dataloader_worker_counts()) if contenders.installed("dataloader") else 1
            plans = case.plans(least)
            results = runner.run(
                case.name,
                plans,
                contender_set(case.bin_size, args.device, every=True),
                case.length,
                case.bin_size,
                case.rounds,
                args.slow_pass,
            )
            if case.name == "sweep":
                sweep_results = {n: [(p.batch, r[n]) for p, r in zip(plans, results)] for n in results[0]}
            emit(
                f"### {case.title}",
                "",
                f"windows/s (and x pyBigWig); {where}; at least {case.windows_per_point:,} timed windows a batch size, "
                f"best of {case.rounds} interleaved round{'s' if case.rounds > 1 else ''}; every output checked "
                "against pyBigWig on a first batch (WRONG in place of a speed where it differs)",
                "",
                table_by_contender(plans, results),
                "",
            )
            if case.name == "sweep":
                floor = inflate_floor(case, 256, rng)
                if floor:
                    emit(floor, "")
    finally:
        pool.close()
    if "dataset" in args.case:
        import end_to_end

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
        import epochs

        emit(
            "### ChromBPNet-shaped: five epochs over 30,000 peaks, the block cache on and off",
            "",
            "samples/s (one-hot 2,114 bp sequence + the 1,000 bp centre of every track, batch 64)",
            "",
        )
        for tracks in (2,) if args.quick else (4, 16):
            emit(*epochs.run(tracks, rng, 1_000 if args.quick else epochs.PEAKS))
    if "chrombpnet-genome" in args.case:
        import epochs

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
    sweep_plot = args.plot or (args.plot_dir / "sweep.png" if args.plot_dir else None)
    if sweep_plot and sweep_results:
        series = {
            n: [(b, p.windows_per_second) for b, p in pts if p.windows_per_second and p.verdict != "WRONG"]
            for n, pts in sweep_results.items()
        }
        sweep_case = all_cases["sweep"]
        throughput.plot_sweep(series, sweep_plot, f"{sweep_case.title}; {os.cpu_count()} CPUs")
        written.append(sweep_plot)
    for plot in written:
        print(f"plot: {plot}")


if __name__ == "__main__":
    main()
