"""Deterministic ENCODE-like bigWig tracks for the benchmarks.

Tracks are written by pybigtools in the UCSC layout (about 1,024 bedGraph items per zlib block,
as bedGraphToBigWig writes them) over a subset of the hg38 chromosome sizes: runs of
geometric length (mean `mean_run` bp: 1, 5, 20 and 50 span base-resolution coverage to
fold-change tracks), values from a chosen distribution, a fraction of the genome left as gaps,
and NaN stored either in single items or in runs of consecutive items.
The files are cached by their parameters under benchmarks/out/ (gitignored), so a rerun writes
nothing; missing tracks are written on all CPUs at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HG38_SIZES = {
    "chr1": 248_956_422,
    "chr2": 242_193_529,
    "chr3": 198_295_559,
    "chr4": 190_214_555,
    "chr5": 181_538_259,
    "chr6": 170_805_979,
    "chr7": 159_345_973,
    "chr8": 145_138_636,
    "chr9": 138_394_717,
    "chr10": 133_797_422,
    "chr11": 135_086_622,
    "chr12": 133_275_309,
    "chr13": 114_364_328,
    "chr14": 107_043_718,
    "chr15": 101_991_189,
    "chr16": 90_338_345,
    "chr17": 83_257_441,
    "chr18": 80_373_285,
    "chr19": 58_617_616,
    "chr20": 64_444_167,
    "chr21": 46_709_983,
    "chr22": 50_818_468,
    "chrX": 156_040_895,
    "chrY": 57_227_415,
}
# The whole hg38 primary assembly (3.1 Gb): the genome-wide ChromBPNet case, whose peaks lie
# farther apart than a data block, so that its first epoch is cold.
GENOME_CHROMS = tuple(HG38_SIZES)
DEFAULT_CHROMS = ("chr21", "chr22")
OUT_DIR = Path(__file__).resolve().parent / "out"
REAL_ENCODE_TRACK = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "bbi-js" / "ENCFF826FLP.bw"


# Value distributions of the tracks ENCODE serves: fold change over control and p-values are
# skewed and positive (log-normal), read coverage is counts, log-ratio tracks are signed.
DISTRIBUTIONS = {
    "lognormal": lambda rng, n: rng.lognormal(0.0, 1.0, n),
    "counts": lambda rng, n: rng.poisson(3.0, n),
    "signed": lambda rng, n: rng.normal(0.0, 2.0, n),
    "uniform": lambda rng, n: rng.random(n),
}
NAN_RUN_MEAN_ITEMS = 20  # consecutive NaN items in one NaN run, on average


@dataclass(frozen=True)
class TrackSpec:
    """What one corpus track looks like; every track of a corpus shares it (seeds differ)."""

    chroms: tuple[str, ...] = DEFAULT_CHROMS
    mean_run: float = 50
    gap_fraction: float = 0.1
    nan_fraction: float = 0.0  # items stored as NaN, one by one
    nan_run_fraction: float = 0.0  # items inside runs of consecutive NaN items
    distribution: str = "lognormal"

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {sorted(DISTRIBUTIONS)}, got {self.distribution!r}")
        unknown = [c for c in self.chroms if c not in HG38_SIZES]
        if unknown:
            raise ValueError(f"no hg38 size for {unknown}; known: {sorted(HG38_SIZES)}")

    @property
    def name(self) -> str:
        """The cache directory's name; the parameters added later appear only when set, so that
        corpora written before them keep their names."""
        name = f"corpus_{'-'.join(self.chroms)}_run{self.mean_run:g}_gap{self.gap_fraction:g}_nan{self.nan_fraction:g}"
        if self.nan_run_fraction:
            name += f"_nanruns{self.nan_run_fraction:g}"
        if self.distribution != "lognormal":
            name += f"_{self.distribution}"
        return name


def track_runs(size: int, spec: TrackSpec, rng: np.random.Generator):
    """(starts, ends, values) of one chromosome: runs of geometric length with gaps between."""
    mean_run = spec.mean_run
    n = int(size / mean_run * 1.05) + 16
    lengths = rng.geometric(1.0 / mean_run, n)
    gaps = np.where(rng.random(n) < spec.gap_fraction, rng.geometric(1.0 / (4 * mean_run), n), 0)
    starts = np.cumsum(np.r_[0, (lengths + gaps)[:-1]])
    ends = starts + lengths
    keep = ends <= size
    values = DISTRIBUTIONS[spec.distribution](rng, n).astype(np.float32)
    if spec.nan_fraction:
        values[rng.random(n) < spec.nan_fraction] = np.nan
    if spec.nan_run_fraction:
        run_starts = np.flatnonzero(rng.random(n) < spec.nan_run_fraction / NAN_RUN_MEAN_ITEMS)
        for first, count in zip(run_starts, rng.geometric(1.0 / NAN_RUN_MEAN_ITEMS, len(run_starts))):
            values[first : first + count] = np.nan
    return starts[keep], ends[keep], values[keep]


def write_track(path: Path, spec: TrackSpec, seed: int) -> Path:
    import pybigtools

    rng = np.random.default_rng(seed)
    sizes = {c: HG38_SIZES[c] for c in spec.chroms}

    def items():
        for chrom in spec.chroms:
            starts, ends, values = track_runs(sizes[chrom], spec, rng)
            yield from zip([chrom] * len(starts), starts.tolist(), ends.tolist(), values.tolist())

    tmp = path.with_name(path.stem + ".partial.bw")  # pybigtools wants a bigWig extension
    writer = pybigtools.open(str(tmp), "w")
    writer.write(sizes, items())
    tmp.rename(path)
    return path


def ensure_corpus(n_tracks: int, spec: TrackSpec = TrackSpec(), out_dir: Path = OUT_DIR) -> list[Path]:
    """The paths of `n_tracks` tracks of this spec (track i seeded with i), writing those not yet
    cached, in parallel."""
    directory = out_dir / spec.name
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"track{i:04d}.bw" for i in range(n_tracks)]
    missing = [(i, p) for i, p in enumerate(paths) if not p.exists()]
    if missing:
        print(f"corpus: writing {len(missing)} tracks to {directory} ...", flush=True)
        with ProcessPoolExecutor(max_workers=min(len(missing), os.cpu_count() or 1)) as pool:
            list(pool.map(write_track, [p for _, p in missing], [spec] * len(missing), [i for i, _ in missing]))
    return paths


def ensure_reference(chroms: Sequence[str] = DEFAULT_CHROMS, out_dir: Path = OUT_DIR, seed: int = 0) -> Path:
    """A random reference FASTA (60-column lines, 2% soft-masked runs, a few N runs) over the
    same chromosome sizes as the tracks, written once and cached."""
    path = out_dir / f"reference_{'-'.join(chroms)}.fa"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(tmp, "wb") as f:
        for chrom in chroms:
            size = HG38_SIZES[chrom]
            f.write(f">{chrom}\n".encode())
            bases = letters[rng.integers(0, 4, size)]
            for _ in range(size // 100_000):  # N gaps
                at = int(rng.integers(0, size - 5_000))
                bases[at : at + int(rng.integers(100, 5_000))] = ord("N")
            lines = np.full((size + 59) // 60 * 61, ord("\n"), dtype=np.uint8)
            body = np.full((size + 59) // 60 * 60, ord("\n"), dtype=np.uint8)
            body[:size] = bases
            lines.reshape(-1, 61)[:, :60] = body.reshape(-1, 60)
            keep = np.ones(len(lines), dtype=bool)
            if size % 60:
                keep[len(lines) - 61 + size % 60 : len(lines) - 1] = False
            f.write(lines[keep].tobytes())
    tmp.rename(path)
    return path
