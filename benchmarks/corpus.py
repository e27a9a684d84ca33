"""Deterministic ENCODE-like bigWig tracks for the benchmarks.

Tracks are written by pybigtools in the UCSC layout (about 1,024 bedGraph items per zlib block,
as bedGraphToBigWig writes them) over a subset of the hg38 chromosome sizes: runs of
geometric length (mean `mean_run` bp), log-normal values, a fraction of the genome left as gaps.
The files are cached by their parameters, so a rerun writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

HG38_SIZES = {
    "chr1": 248_956_422, "chr2": 242_193_529, "chr19": 58_617_616, "chr20": 64_444_167,
    "chr21": 46_709_983, "chr22": 50_818_468, "chrX": 156_040_895,
}
DEFAULT_CHROMS = ("chr21", "chr22")
OUT_DIR = Path(__file__).resolve().parent / "out"
REAL_ENCODE_TRACK = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "bbi-js" / "ENCFF826FLP.bw"


def track_runs(size: int, mean_run: float, gap_fraction: float, nan_fraction: float, rng: np.random.Generator):
    """(starts, ends, values) of one chromosome: runs of geometric length with gaps between."""
    n = int(size / mean_run * 1.05) + 16
    lengths = rng.geometric(1.0 / mean_run, n)
    gaps = np.where(rng.random(n) < gap_fraction, rng.geometric(1.0 / (4 * mean_run), n), 0)
    starts = np.cumsum(np.r_[0, (lengths + gaps)[:-1]])
    ends = starts + lengths
    keep = ends <= size
    values = rng.lognormal(0.0, 1.0, n).astype(np.float32)
    if nan_fraction:
        values[rng.random(n) < nan_fraction] = np.nan
    return starts[keep], ends[keep], values[keep]


def write_track(path: Path, chroms: Sequence[str], mean_run: float, seed: int, gap_fraction: float = 0.1,
                nan_fraction: float = 0.0) -> Path:
    import pybigtools

    rng = np.random.default_rng(seed)
    sizes = {c: HG38_SIZES[c] for c in chroms}

    def items():
        for chrom in chroms:
            starts, ends, values = track_runs(sizes[chrom], mean_run, gap_fraction, nan_fraction, rng)
            yield from zip([chrom] * len(starts), starts.tolist(), ends.tolist(), values.tolist())

    tmp = path.with_name(path.stem + ".partial.bw")  # pybigtools wants a bigWig extension
    writer = pybigtools.open(str(tmp), "w")
    writer.write(sizes, items())
    tmp.rename(path)
    return path


def ensure_corpus(n_tracks: int, chroms: Sequence[str] = DEFAULT_CHROMS, mean_run: float = 50,
                  gap_fraction: float = 0.1, nan_fraction: float = 0.0, out_dir: Path = OUT_DIR) -> list[Path]:
    """The paths of `n_tracks` tracks with these parameters, writing those not yet cached."""
    directory = out_dir / f"corpus_{'-'.join(chroms)}_run{mean_run:g}_gap{gap_fraction:g}_nan{nan_fraction:g}"
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_tracks):
        path = directory / f"track{i:04d}.bw"
        if not path.exists():
            write_track(path, chroms, mean_run, seed=i, gap_fraction=gap_fraction, nan_fraction=nan_fraction)
        paths.append(path)
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
