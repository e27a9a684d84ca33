"""Shared fixtures: the real files the tests name (the shared ones in ../shared/data/real where
present, else their stand-ins written at test time by corpus.py) and files written here with
pyBigWig."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

import corpus

# The real servers on loopback for the remote tests: s3_server, nginx_server, fault_proxy_factory.
pytest_plugins = ["remote_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[2]
# The real files of other writers, an extra corpus where present (CI has them); never required.
REAL_DATA = Path(os.environ.get("BWL_REAL_DATA", REPO_ROOT.parent / "shared" / "data" / "real"))

NOT_BIGWIG = corpus.NOT_BIGWIG


def shared_real_data() -> Path | None:
    """REAL_DATA when it holds the shared real files; None when it is missing or is a generated
    corpus (scripts/real_data.sh points BWL_REAL_DATA at one in a clone without shared data)."""
    if REAL_DATA.is_dir() and not (REAL_DATA / corpus.STAMP).exists():
        return REAL_DATA
    return None


@functools.cache
def corpus_dir() -> Path:
    """The folder of stand-ins: one already written (by a parent test process, which passes it
    in BWL_TEST_CORPUS, or by scripts/real_data.sh as REAL_DATA), else written now, once per
    process, into a temporary folder removed when the process that wrote it exits."""
    for candidate in (os.environ.get("BWL_TEST_CORPUS"), REAL_DATA):
        if candidate and corpus.is_corpus(Path(candidate)):
            return Path(candidate)
    directory = Path(tempfile.mkdtemp(prefix="bwl-test-corpus-"))
    owner = os.getpid()  # a forked child exiting must not remove the parent's corpus
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(directory, ignore_errors=True))
    corpus.write_corpus(directory)
    os.environ["BWL_TEST_CORPUS"] = str(directory)  # subprocesses (torchrun workers) reuse it
    return directory


def _bigwigs_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.bw") if p.relative_to(directory).as_posix() not in NOT_BIGWIG)


def real_bigwigs() -> list[Path]:
    """Every generated bigWig, then every shared real bigWig where present (an extra corpus)."""
    generated = _bigwigs_in(corpus_dir())
    assert len(generated) >= 12, generated
    shared = shared_real_data()
    return generated + (_bigwigs_in(shared) if shared else [])


def bigwig_id(path: Path) -> str:
    """A test id telling a stand-in from the real file of the same name."""
    return f"{'stand-in' if path.is_relative_to(corpus_dir()) else 'real'}:{path.name}"


def real_file(relative: str) -> Path:
    """The shared real file `relative` when REAL_DATA has it, else its generated stand-in. Only
    names the corpus has a stand-in for: a test must pass from a clone alone."""
    if relative not in corpus.STAND_INS:
        raise KeyError(f"no stand-in for {relative!r}: add one to tests/python/corpus.py")
    shared = shared_real_data()
    if shared is not None and (shared / relative).is_file():
        return shared / relative
    return corpus_dir() / relative


# --- which device device=None means in a test ---------------------------------------------


@pytest.fixture(autouse=True)
def _cpu_unless_marked_gpu(request: pytest.FixtureRequest):
    """Tests that omit device= mean the CPU unless marked gpu: on a machine with a GPU the
    automatic default would otherwise move them there (numpy cannot take a CUDA capsule, out=
    is refused). Uses the user-facing bigwig_loader.set_default_device; tests of the automatic
    default itself call set_default_device(None) inside."""
    import bigwig_loader

    if request.node.get_closest_marker("gpu") is not None:
        yield
        return
    bigwig_loader.set_default_device("cpu")
    try:
        yield
    finally:
        bigwig_loader.set_default_device(None)


# --- files the tests write with pyBigWig -------------------------------------------------

GENERATED_CHROMS = [("chr1", 200_000), ("chr2", 150_000), ("chr3", 120_000), ("chrM", 16_569), ("chrEmpty", 5_000)]


def _bedgraph_runs(rng: np.random.Generator, size: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n runs of random length with random gaps, some NaN values, inside [0, size)."""
    lengths = rng.integers(1, 60, n)
    gaps = rng.integers(0, 40, n) * (rng.random(n) < 0.3)
    starts = np.cumsum(np.r_[0, (lengths + gaps)[:-1]]) + 7
    ends = starts + lengths
    keep = ends <= size
    values = rng.normal(0, 5, n).astype(np.float32)
    values[rng.random(n) < 0.02] = np.nan
    return starts[keep], ends[keep], values[keep]


def write_generated(path: Path, seed: int = 0) -> Path:
    """A bigWig with all three section types, several chromosomes, NaN values and gaps:
    chr1 bedGraph (many blocks), chr2 variableStep (span 3), chr3 fixedStep (step 10, span 7),
    chrM all three types one after another, chrEmpty no data at all."""
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(GENERATED_CHROMS, maxZooms=2)
    s, e, v = _bedgraph_runs(rng, 200_000, 6_000)
    bw.addEntries(["chr1"] * len(s), s.tolist(), ends=e.tolist(), values=v.tolist())
    starts2 = np.sort(rng.choice(np.arange(0, 150_000 - 3, 3), 5_000, replace=False))
    vals2 = rng.normal(1, 2, len(starts2)).astype(np.float32)
    vals2[::97] = np.nan
    bw.addEntries("chr2", starts2.tolist(), values=vals2.tolist(), span=3)
    vals3 = rng.normal(-1, 3, 3_000).astype(np.float32)
    vals3[5:9] = np.nan
    bw.addEntries("chr3", 1_001, values=vals3.tolist(), span=7, step=10)
    bw.addEntries(["chrM"] * 3, [0, 10, 30], ends=[5, 20, 31], values=[1.0, 2.0, 3.0])
    bw.addEntries("chrM", [100, 150, 151], values=[4.0, float("nan"), 6.0], span=1)
    bw.addEntries("chrM", 1_000, values=[7.0, 8.0, 9.0], span=50, step=100)
    bw.close()
    return path


@pytest.fixture(scope="session")
def generated_bigwig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_generated(tmp_path_factory.mktemp("generated") / "all_sections.bw")


# --- a generated collection: files with different chromosome sets and id orders ----------


def write_collection(directory: Path, seed: int = 1) -> list[Path]:
    """Three bigWigs over overlapping but different chromosome sets, each written with its own
    header order (so chromosome ids differ between files) and sizes (chr1 is shorter in c):

      a.bw  chr1 (bedGraph), chr2 (variableStep), chrX (fixedStep)
      b.bw  chrX (bedGraph), contig_7 (fixedStep), chr2 (bedGraph) — no chr1
      c.bw  chr2 (fixedStep), chr1 (variableStep, shorter chromosome) — NaN runs and gaps
    """
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)

    def bedgraph(bw, chrom, size, n):
        s, e, v = _bedgraph_runs(rng, size, n)
        bw.addEntries([chrom] * len(s), s.tolist(), ends=e.tolist(), values=v.tolist())

    def varstep(bw, chrom, size, span, n):
        starts = np.sort(rng.choice(np.arange(0, size - span, span), n, replace=False))
        values = rng.normal(2, 1, n).astype(np.float32)
        values[rng.random(n) < 0.03] = np.nan
        bw.addEntries(chrom, starts.tolist(), values=values.tolist(), span=span)

    def fixedstep(bw, chrom, start, span, step, n):
        values = rng.normal(0, 4, n).astype(np.float32)
        values[n // 3 : n // 3 + 5] = np.nan
        bw.addEntries(chrom, start, values=values.tolist(), span=span, step=step)

    paths = [directory / "a.bw", directory / "b.bw", directory / "sub" / "c.bw"]
    paths[2].parent.mkdir(exist_ok=True)
    bw = pyBigWig.open(str(paths[0]), "w")
    bw.addHeader([("chr1", 60_000), ("chr2", 50_000), ("chrX", 40_000)], maxZooms=0)
    bedgraph(bw, "chr1", 60_000, 2_500)
    varstep(bw, "chr2", 50_000, 4, 3_000)
    fixedstep(bw, "chrX", 1_000, 20, 25, 1_400)
    bw.close()
    bw = pyBigWig.open(str(paths[1]), "w")
    bw.addHeader([("chrX", 40_000), ("contig_7", 9_000), ("chr2", 50_000)], maxZooms=0)
    bedgraph(bw, "chrX", 40_000, 1_500)
    fixedstep(bw, "contig_7", 0, 3, 3, 2_900)
    bedgraph(bw, "chr2", 50_000, 1_800)
    bw.close()
    bw = pyBigWig.open(str(paths[2]), "w")
    bw.addHeader([("chr2", 50_000), ("chr1", 30_000)], maxZooms=0)
    fixedstep(bw, "chr2", 500, 10, 10, 4_000)
    varstep(bw, "chr1", 30_000, 7, 2_000)
    bw.close()
    return sorted(paths, key=str)


@pytest.fixture(scope="session")
def collection_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("collection")
    write_collection(directory)
    return directory


def copy_with_corrupt_data(directory: Path, source: str = "bbi-js/volvox.bw") -> Path:
    """A copy of a real bigWig whose first data blocks are garbled (header and indexes intact)."""
    import struct

    data = bytearray(real_file(source).read_bytes())
    full_data_offset = struct.unpack_from("<Q", data, 16)[0]
    for i in range(full_data_offset + 10, full_data_offset + 400):
        data[i] ^= 0x3C
    path = directory / "corrupt.bw"
    path.write_bytes(bytes(data))
    return path
