"""The demo's synthetic dataset: a genome with planted motifs, and tracks that respond to them.

The genome is random DNA (AT-rich, as mammalian DNA is) with a few realistic blemishes: a run
of N at each chromosome's start and one gap inside, and soft-masked (lowercase) stretches.
Into it, three motifs are planted at random places in random orientation.

Each track is the readout of an imagined assay: around every motif site it responds to, a
Gaussian peak whose height is the track's weight for that motif times a random factor per
site; plus peaks at random places that no motif explains, and a weak background. The
observed value of a 10 bp bin is a Poisson count at a fixed sequencing depth, divided by the
depth: noisy, and zero in most of the genome, as real coverage tracks are. A model that
learns the motifs predicts the tracks on a chromosome it never saw; one that did not, cannot.

Everything is drawn from one seed, so the same spec always gives the same files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

#: Bases per bin of the written tracks.
BIN = 10
_FASTA_LINE = 60


@dataclass(frozen=True)
class Motif:
    name: str
    sequence: str
    #: Mean bases between two planted sites.
    spacing: int


@dataclass(frozen=True)
class Track:
    name: str
    #: Peak height per motif name (motifs not named: no response).
    weights: dict[str, float]
    #: Standard deviation of a peak, in bases.
    width: int


MOTIFS = (
    Motif("AP1", "TGACTCAT", 1_200),
    Motif("EBOX", "CACGTGAC", 1_400),
    Motif("GATA", "AGATAAGGC", 1_600),
)

TRACKS = (
    Track("factor_AP1", {"AP1": 3.0}, 40),
    Track("factor_EBOX", {"EBOX": 2.5}, 60),
    Track("enhancer", {"AP1": 1.2, "GATA": 2.0}, 120),
    Track("promoter", {"EBOX": 1.0, "GATA": 1.5}, 160),
)


@dataclass(frozen=True)
class DatasetSpec:
    """What to generate. Equal specs give byte-identical files."""

    chrom_sizes: dict[str, int] = field(
        default_factory=lambda: {"chr1": 1_400_000, "chr2": 1_100_000, "chr3": 900_000, "chr4": 700_000}
    )
    seed: int = 0
    motifs: tuple[Motif, ...] = MOTIFS
    tracks: tuple[Track, ...] = TRACKS
    #: Reads per unit of signal in a bin: higher is less noisy.
    depth: float = 8.0
    #: Mean bases between two peaks that no motif explains.
    decoy_spacing: int = 20_000
    background: float = 0.03

    def key(self) -> str:
        """A short name for this spec, stable across runs: names its folder in the cache."""
        import hashlib

        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Dataset:
    """The files of a generated dataset."""

    directory: Path
    genome: Path
    #: Sorted by path: track i of a BigWigCollection of `track_dir`.
    tracks: list[Path]
    chrom_sizes: dict[str, int]

    @property
    def track_dir(self) -> Path:
        return self.directory / "tracks"


def generate(spec: DatasetSpec, directory: Path) -> Dataset:
    """Writes the genome (FASTA) and one bigWig per track into `directory` (which must be new
    or empty), the tracks with bigwig_loader's own writer."""
    from bigwig_loader import BigWigWriter

    rng = np.random.default_rng(spec.seed)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tracks").mkdir(exist_ok=True)
    genome_path = directory / "genome.fa"
    signals: dict[str, np.ndarray] = {}
    with open(genome_path, "wb") as fasta:
        for chrom, size in spec.chrom_sizes.items():
            bases, sites = _chromosome(rng, size, spec.motifs)
            _write_fasta_record(fasta, chrom, bases)
            signals[chrom] = _observed(rng, size, sites, spec)
    track_paths = []
    for t, track in enumerate(spec.tracks):
        path = directory / "tracks" / f"{track.name}.bw"
        with BigWigWriter(path, dict(spec.chrom_sizes)) as writer:
            for chrom, observed in signals.items():
                starts, ends, values = _runs(observed[t], spec.chrom_sizes[chrom])
                writer.add_intervals(chrom, starts, ends, values)
        track_paths.append(path)
    return Dataset(directory, genome_path, sorted(track_paths, key=str), dict(spec.chrom_sizes))


# --- the genome --------------------------------------------------------------------------

_ACGT = np.frombuffer(b"ACGT", dtype=np.uint8)
_COMPLEMENT = bytes.maketrans(b"ACGT", b"TGCA")


def _chromosome(
    rng: np.random.Generator, size: int, motifs: tuple[Motif, ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The bases of one chromosome (uint8 ASCII) and the centre of every planted site, by motif."""
    bases = rng.choice(_ACGT, size=size, p=[0.3, 0.2, 0.2, 0.3])
    sites: dict[str, np.ndarray] = {}
    usable_from = min(5_000, size // 20)  # the leading N run
    for motif in motifs:
        word = np.frombuffer(motif.sequence.encode(), dtype=np.uint8)
        reverse = np.frombuffer(motif.sequence.encode().translate(_COMPLEMENT)[::-1], dtype=np.uint8)
        n = max(1, size // motif.spacing)
        starts = np.sort(rng.integers(usable_from, size - len(word), n))
        forward = rng.random(n) < 0.5
        offsets = np.arange(len(word))
        bases[(starts[forward, None] + offsets)] = word
        bases[(starts[~forward, None] + offsets)] = reverse
        sites[motif.name] = starts + len(word) // 2
    bases[:usable_from] = ord("N")
    gap = rng.integers(size // 3, 2 * size // 3)
    bases[gap : gap + 2_000] = ord("N")
    for start in rng.integers(usable_from, size - 3_000, max(1, size // 200_000)):
        bases[start : start + rng.integers(300, 3_000)] |= 0x20  # soft-masked: lowercase
    for motif in motifs:  # sites under the gap were erased: they bind nothing
        sites[motif.name] = sites[motif.name][bases[sites[motif.name]] != ord("N")]
    return bases, sites


def _write_fasta_record(out, name: str, bases: np.ndarray) -> None:
    out.write(f">{name}\n".encode())
    full = len(bases) // _FASTA_LINE * _FASTA_LINE
    lines = np.empty((full // _FASTA_LINE, _FASTA_LINE + 1), dtype=np.uint8)
    lines[:, :-1] = bases[:full].reshape(-1, _FASTA_LINE)
    lines[:, -1] = ord("\n")
    out.write(lines.tobytes())
    if full < len(bases):
        out.write(bases[full:].tobytes() + b"\n")


# --- the tracks --------------------------------------------------------------------------


def _observed(rng: np.random.Generator, size: int, sites: dict[str, np.ndarray], spec: DatasetSpec) -> np.ndarray:
    """float32 (n_tracks, bins): the observed value of every 10 bp bin of every track."""
    n_bins = -(-size // BIN)
    decoys = rng.integers(0, size, max(1, size // spec.decoy_spacing)) // BIN
    decoy_heights = rng.exponential(1.0, len(decoys))
    observed = np.empty((len(spec.tracks), n_bins), dtype=np.float32)
    for t, track in enumerate(spec.tracks):
        impulses = np.zeros(n_bins)
        for motif, weight in track.weights.items():
            where = sites[motif] // BIN
            np.add.at(impulses, where, weight * rng.lognormal(0.0, 0.35, len(where)))
        np.add.at(impulses, decoys, decoy_heights)
        expected = np.convolve(impulses, _gaussian(track.width / BIN), mode="same") + spec.background
        counts = rng.poisson(expected * spec.depth)
        observed[t] = counts / spec.depth
    return observed


def _gaussian(sigma_bins: float) -> np.ndarray:
    """A peak of height 1 at its centre, cut at four standard deviations."""
    half = int(np.ceil(4 * sigma_bins))
    x = np.arange(-half, half + 1)
    return np.exp(-0.5 * (x / sigma_bins) ** 2)


def _runs(bins: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bedGraph runs of the non-zero bins, equal neighbours merged; the last run ends at the
    chromosome's end."""
    change = np.flatnonzero(np.diff(bins)) + 1
    first = np.r_[0, change]
    last = np.r_[change, len(bins)]
    values = bins[first]
    keep = values != 0
    starts = first[keep] * BIN
    ends = np.minimum(last[keep] * BIN, size)
    return starts.astype(np.int64), ends.astype(np.int64), values[keep].astype(np.float32)
