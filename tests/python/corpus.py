"""The test corpus: a stand-in for every file of the shared real data (../shared/data/real) that
the tests name, under the same relative name, so that a clone alone passes the suite.

The bigWigs are written by the independent writers the test extras install: pyBigWig
(libBigWig, as deepTools writes) and pybigtools (bigtools, in the UCSC layout of about 1,024
bedGraph items per zlib block), never by this project's writer, so that the reader is checked
against other writers' bytes. No writer the tests have writes an uncompressed bigWig: that one
is the libBigWig volvox stand-in with every block stored inflated (inflated_copy below), which
keeps libBigWig's layout, zoom levels and data. Each stand-in keeps what the tests rely on in
the real file it replaces: chromosome names and sizes, section types, items per block, gaps,
compression; its values are seeded random data, not the real ones, so tests that check values
ask pyBigWig (the oracle) about the file they read.

Written once per test session (conftest.corpus_dir), or into a folder by the command line, for
scripts/real_data.sh and the C++ tests:

    python tests/python/corpus.py DIR    # writes the corpus into DIR unless DIR already has it
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pybigtools
import pyBigWig

# Bump when a stand-in changes: a folder holding an older corpus is written again.
VERSION = "1"
# Written last into a complete corpus folder: its version, and what the folder is.
STAMP = "CORPUS"

BIGWIG_MAGIC = 0x888FFC26
RTREE_MAGIC = 0x2468ACE0
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _rng(name: str) -> np.random.Generator:
    """Each file's own seeded stream, so a file's bytes do not depend on the others."""
    return np.random.default_rng(zlib.crc32(name.encode()))


# --- the writers ---------------------------------------------------------------------------


def _libbigwig_bedgraph(path: Path, chroms: list[tuple[str, int]], items: dict[str, tuple]) -> None:
    """bedGraph sections written by libBigWig: items[chrom] = (starts, ends, values)."""
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(chroms, maxZooms=10)
    for chrom, size in chroms:
        if chrom in items:
            starts, ends, values = items[chrom]
            _assert_inside(path, chrom, size, ends)
            bw.addEntries([chrom] * len(starts), _ints(starts), ends=_ints(ends), values=_floats(values))
    bw.close()


def _bigtools_bedgraph(path: Path, chroms: dict[str, int], chrom: str, starts, ends, values) -> None:
    """bedGraph sections written by bigtools (one chromosome is all the stand-ins need)."""
    _assert_inside(path, chrom, chroms[chrom], ends)
    rows = zip([chrom] * len(starts), _ints(starts), _ints(ends), _floats(values))
    pybigtools.open(str(path), "w").write(chroms, rows)


def _assert_inside(path: Path, chrom: str, size: int, ends) -> None:
    """The writers take items past a chromosome's end (libBigWig does): a stand-in has none."""
    assert int(np.max(ends)) <= size, f"{path.name}: {chrom} item past its end {size}"


def _ints(a) -> list[int]:
    return np.asarray(a, dtype=np.int64).tolist()


def _floats(a) -> list[float]:
    return np.asarray(a, dtype=np.float64).tolist()


def _runs(rng: np.random.Generator, n: int, first: int, lengths: tuple[int, int], gap: int, gap_odds: float):
    """n runs from `first` on: lengths in [lo, hi), a gap of up to `gap` bases before a run with
    odds `gap_odds`, else the run abuts the one before."""
    length = rng.integers(*lengths, n)
    gaps = rng.integers(1, gap + 1, n) * (rng.random(n) < gap_odds)
    starts = first + np.cumsum(gaps) + np.r_[0, np.cumsum(length)[:-1]]
    return starts, starts + length


def _partition(rng: np.random.Generator, size: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n abutting runs covering [0, size) whole."""
    cuts = np.sort(rng.choice(size - 1, n - 1, replace=False)) + 1  # from an int: no array of `size` built
    return np.r_[0, cuts], np.r_[cuts, size]


# --- the stand-ins, one function each: (path it writes, corpus folder) ------------------------


def encode(path: Path, _: Path) -> None:
    """ENCFF826FLP: an ENCODE signal on hg38 chr22, from 16 Mb (where the real track's data
    begins) to about 51 Mb, 200,000 bedGraph runs of small integer values; bigtools, as UCSC's
    bedGraphToBigWig: 1,024 items and one section a block, zoom data after the index."""
    rng = _rng(path.name)
    starts, ends = _runs(rng, 200_000, 16_050_000, (20, 250), 160, 0.5)
    values = np.minimum(rng.geometric(0.15, len(starts)) - 1, 171)
    _bigtools_bedgraph(path, {"chr22": 51_304_566}, "chr22", starts, ends, values)


def cow(path: Path, _: Path) -> None:
    """One 158 Mb contig with a non-human name, covered whole by 40,000 runs (bigtools)."""
    rng = _rng(path.name)
    starts, ends = _partition(rng, 158_337_067, 40_000)
    values = np.minimum(rng.pareto(1.5, len(starts)) * 20, 7_737).round()
    _bigtools_bedgraph(path, {"GK000001.2": 158_337_067}, "GK000001.2", starts, ends, values)


def pvalues(path: Path, _: Path) -> None:
    """Sparse bedGraph runs on one scaffold; libBigWig fills a block to 32 kB (2,728 bedGraph
    items, more than the usual 1,024) and writes R-trees of block size 64."""
    rng = _rng(path.name)
    starts, ends = _runs(rng, 20_000, 500, (1, 40), 4_000, 0.8)
    values = rng.integers(0, 33, len(starts))
    _libbigwig_bedgraph(path, [("scaffold_25_1", 39_299_130)], {"scaffold_25_1": (starts, ends, values)})


def volvox_items() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """49,984 one-base items on ctgA (bases 17 to 50,000), a coverage-like walk from 1 to 38."""
    rng = _rng("volvox.bw")
    starts = np.arange(17, 50_001)
    walk = np.cumsum(rng.integers(-1, 2, len(starts)))
    values = 1 + np.abs((walk + 37) % 74 - 37)  # the walk folded into [1, 38]
    return starts, starts + 1, values


def volvox(path: Path, _: Path) -> None:
    """One-base bedGraph items, zlib-compressed by libBigWig (about 18 blocks)."""
    _libbigwig_bedgraph(path, [("ctgA", 50_001)], {"ctgA": volvox_items()})


def uncompressed(path: Path, corpus: Path) -> None:
    """The volvox stand-in with every block (data and zoom) stored inflated, uncompressBufSize 0:
    the same data, uncompressed."""
    inflated_copy(corpus / "bbi-js" / "volvox.bw", path)


def fixed_step(path: Path, _: Path) -> None:
    """300 fixedStep sections (span 3, step 3) of 1 to 1,024 items, starting off multiples of 3,
    sparse over human chr1, negative values too (libBigWig)."""
    rng = _rng(path.name)
    n = rng.integers(1, 1_025, 300)
    room = 249_250_621 // 300
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", 249_250_621)], maxZooms=10)
    for i, count in enumerate(n):
        start = i * room + 3 * int(rng.integers(0, (room - 3 * count) // 3)) + int(rng.integers(1, 3))
        values = rng.integers(-124, 97, int(count))
        bw.addEntries("chr1", start, values=_floats(values), span=3, step=3)
    bw.close()


def variable_step_wig(path: Path, _: Path) -> None:
    """The variableStep wig the bigWig is written from (1-based positions): 11 items, span 1."""
    rng = _rng(path.name)
    lines = ["track type=wiggle_0 name=variable_step description=stand-in", "variableStep chrom=chr1"]
    values = np.round(np.sort(rng.uniform(-0.05, 0.85, 11))[::-1], 6)
    lines += [f"{12 + 4 * i}    {v:.6f}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")


def variable_step(path: Path, _: Path) -> None:
    """One variableStep section (span 1) on a 52-base chr1, from variable_step.wig (libBigWig)."""
    wig = path.with_suffix(".wig").read_text().splitlines()[2:]
    positions = [int(line.split()[0]) - 1 for line in wig]
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", 52)], maxZooms=10)
    bw.addEntries("chr1", positions, values=[float(line.split()[1]) for line in wig], span=1)
    bw.close()


def volvox_microarray(path: Path, _: Path) -> None:
    """One fixedStep section of 500 items, span = step = 100, on ctgA (libBigWig)."""
    values = _rng(path.name).integers(100, 900, 500)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("ctgA", 50_001)], maxZooms=10)
    bw.addEntries("ctgA", 0, values=_floats(values), span=100, step=100)
    bw.close()


def not_a_bigwig(path: Path, _: Path) -> None:
    """An HDF5 file named .bw: what an HDF5 library writes first (the signature, a version-0
    superblock), then zeros. Read as a bigWig, its magic is 0x46444889."""
    superblock = struct.pack("<BBBBBBBBHHI", 0, 0, 0, 0, 0, 8, 8, 0, 4, 16, 0)
    path.write_bytes((HDF5_SIGNATURE + superblock).ljust(2_048, b"\0"))


def bigbed(path: Path, _: Path) -> None:
    """A bigBed (bigtools): a file of the BBI family that is not a bigWig."""
    rows = [("chr1", 1_000 * i, 1_000 * i + 500, f"item{i}\t0\t+") for i in range(1, 20)]
    pybigtools.open(str(path), "w").write({"chr1": 248_956_422}, rows)


def heatmapper(path: Path, _: Path) -> None:
    """Three 400-base chromosomes ch1..ch3 in 25-base bins of 0 to 3 (libBigWig, as deepTools)."""
    rng = _rng(path.name)
    starts = np.arange(0, 400, 25)
    chroms = [("ch1", 400), ("ch2", 400), ("ch3", 400)]
    values = {c: rng.choice([0, 0, 0, 0, 1, 2, 3], len(starts)) for c, _ in chroms}
    _libbigwig_bedgraph(path, chroms, {c: (starts, starts + 25, values[c]) for c, _ in chroms})


TESTA_CHROMS = [("3R", 200), ("chr_cigar", 200)]


def testa_offset1(path: Path, _: Path) -> None:
    """3R and chr_cigar (200 bases each, as testA.fa) covered whole by runs of 0 and 1."""
    rng = _rng(path.name)
    items = {}
    for (chrom, size), n in zip(TESTA_CHROMS, (4, 3)):
        starts, ends = _partition(rng, size, n)
        items[chrom] = (starts, ends, np.arange(n) % 2)
    _libbigwig_bedgraph(path, TESTA_CHROMS, items)


def testa_skip_nas(path: Path, _: Path) -> None:
    """The same chromosomes with one run each and gaps around them (NaN bins skipped)."""
    items = {"3R": ([100], [200], [1.0]), "chr_cigar": ([0], [50], [2.0])}
    _libbigwig_bedgraph(path, TESTA_CHROMS, items)


def phix_coverage(path: Path, _: Path) -> None:
    """Coverage over the whole phiX174 genome, 472 abutting runs (libBigWig, as bamCoverage)."""
    rng = _rng(path.name)
    starts, ends = _partition(rng, 5_386, 472)
    values = rng.integers(16_038, 962_309, len(starts))
    _libbigwig_bedgraph(path, [("phiX174", 5_386)], {"phiX174": (starts, ends, values)})


def _fasta(records: list[tuple[str, str]], width: int | None, tail: str = "") -> str:
    """FASTA text: lines of `width` bases (one line a record when None), then `tail`."""
    out = []
    for name, seq in records:
        step = width or len(seq)
        out.append(f">{name}\n" + "".join(seq[i : i + step] + "\n" for i in range(0, len(seq), step)))
    return "".join(out) + tail


def _bases(rng: np.random.Generator, n: int, alphabet: str = "ACGT") -> str:
    return "".join(rng.choice(list(alphabet), n))


def phix_fasta(path: Path, _: Path) -> None:
    """phiX174's 5,386 bases in lines of 70, an empty line at the end (as the real file has),
    and its samtools .fai."""
    path.write_text(_fasta([("phiX174", _bases(_rng(path.name), 5_386))], 70, tail="\n"))
    Path(f"{path}.fai").write_text("phiX174\t5386\t9\t70\t71\n")


def testa_fasta(path: Path, _: Path) -> None:
    """3R and chr_cigar, 200 bases each, in lines of 60."""
    rng = _rng(path.name)
    path.write_text(_fasta([(c, _bases(rng, n)) for c, n in TESTA_CHROMS], 60))


def chr17_part(path: Path, _: Path) -> None:
    """40,000 bases of chr17 on one line, soft-masked (lowercase) runs among uppercase ones."""
    rng = _rng(path.name)
    seq = _bases(rng, 40_000)
    mask = np.repeat(rng.random(400) < 0.45, 100)
    path.write_text(_fasta([("chr17", "".join(b.lower() if m else b for b, m in zip(seq, mask)))], None))


# In writing order (uncompressed.bw copies volvox.bw; variable_step.bw reads its .wig).
STAND_INS: dict[str, Callable[[Path, Path], None]] = {
    "bbi-js/ENCFF826FLP.bw": encode,
    "bbi-js/cow.bw": cow,
    "bbi-js/pvalues.bw": pvalues,
    "bbi-js/volvox.bw": volvox,
    "bbi-js/uncompressed.bw": uncompressed,
    "bbi-js/fixedStep.bw": fixed_step,
    "bbi-js/variable_step.wig": variable_step_wig,
    "bbi-js/variable_step.bw": variable_step,
    "bbi-js/volvox_microarray.bw": volvox_microarray,
    "bbi-js/unipLocCytopl.bb": bigbed,
    "clodius/not_a_bigwig_hdf5.bw": not_a_bigwig,
    "deeptools/heatmapper_test.bw": heatmapper,
    "deeptools/testA_offset1.bw": testa_offset1,
    "deeptools/testA_skipNAs.bw": testa_skip_nas,
    "deeptools/testA.fa": testa_fasta,
    "deeptools/bamCoverage_result4.bw": phix_coverage,
    "deeptools/phiX.fasta": phix_fasta,
    "pyfaidx/chr17.hg19.part.fa": chr17_part,
}

# Files named .bw that are not bigWigs, by design (the error tests).
NOT_BIGWIG = {"clodius/not_a_bigwig_hdf5.bw"}

# What the tests rely on in each real bigWig, kept by its stand-in (tests/python/test_corpus.py
# checks both): its chromosomes, in file order, and the section types it holds.
FACTS: dict[str, tuple[dict[str, int], set[str]]] = {
    "bbi-js/ENCFF826FLP.bw": ({"chr22": 51_304_566}, {"bedGraph"}),
    "bbi-js/cow.bw": ({"GK000001.2": 158_337_067}, {"bedGraph"}),
    "bbi-js/pvalues.bw": ({"scaffold_25_1": 39_299_130}, {"bedGraph"}),
    "bbi-js/volvox.bw": ({"ctgA": 50_001}, {"bedGraph"}),
    "bbi-js/uncompressed.bw": ({"ctgA": 50_001}, {"bedGraph"}),
    "bbi-js/fixedStep.bw": ({"chr1": 249_250_621}, {"fixedStep"}),
    "bbi-js/variable_step.bw": ({"chr1": 52}, {"variableStep"}),
    "bbi-js/volvox_microarray.bw": ({"ctgA": 50_001}, {"fixedStep"}),
    "deeptools/heatmapper_test.bw": ({"ch1": 400, "ch2": 400, "ch3": 400}, {"bedGraph"}),
    "deeptools/testA_offset1.bw": (dict(TESTA_CHROMS), {"bedGraph"}),
    "deeptools/testA_skipNAs.bw": (dict(TESTA_CHROMS), {"bedGraph"}),
    "deeptools/bamCoverage_result4.bw": ({"phiX174": 5_386}, {"bedGraph"}),
}


# --- an inflated copy of a compressed bigWig -------------------------------------------------


def _rtree_blocks(data: bytes, index: int) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """The R-tree at `index`: its leaves' (offset, size) of each block, and the byte positions of
    the fields that hold a file offset (child nodes, blocks, endFileOffset) or a block size."""
    magic = struct.unpack_from("<I", data, index)[0]
    assert magic == RTREE_MAGIC, f"no R-tree at {index}"
    blocks, offset_fields, size_fields = [], [index + 32], []
    nodes = [index + 48]
    while nodes:
        node = nodes.pop()
        is_leaf, _, count = struct.unpack_from("<BBH", data, node)
        for i in range(count):
            if is_leaf:
                at = node + 4 + 32 * i + 16
                blocks.append(struct.unpack_from("<QQ", data, at))
                offset_fields.append(at)
                size_fields.append(at + 8)
            else:
                at = node + 4 + 24 * i + 16
                nodes.append(struct.unpack_from("<Q", data, at)[0])
                offset_fields.append(at)
    return blocks, offset_fields, size_fields


def inflated_copy(source: Path, target: Path) -> None:
    """Writes `source`, a zlib-compressed bigWig, with every data and zoom block stored inflated
    and uncompressBufSize 0, as UCSC's -unc writes it: each block grows, so every file offset
    after the first block moves, and the header, the zoom headers and the R-trees are patched
    to point to where their targets moved. The chromosome tree lies before the data blocks and
    keeps its offsets."""
    data = source.read_bytes()
    magic, _, n_zooms, chrom_tree, full_data, full_index = struct.unpack_from("<IHHQQQ", data, 0)
    assert magic == BIGWIG_MAGIC and struct.unpack_from("<I", data, 52)[0] > 0, f"{source}: not a compressed bigWig"
    assert chrom_tree < full_data
    # chromTree, fullData, fullIndex; autoSql, totalSummary, extension where the file has them
    offset_fields = [8, 16, 24] + [at for at in (36, 44, 56) if struct.unpack_from("<Q", data, at)[0]]
    blocks, size_fields = [], []
    for index in [full_index] + [struct.unpack_from("<Q", data, 64 + 24 * z + 16)[0] for z in range(n_zooms)]:
        b, o, s = _rtree_blocks(data, index)
        blocks += b
        offset_fields += o
        size_fields += s
    offset_fields += [64 + 24 * z + at for z in range(n_zooms) for at in (8, 16)]
    inflated = {offset: zlib.decompress(data[offset : offset + size]) for offset, size in blocks}
    growth = sorted((offset, len(inflated[offset]) - size) for offset, size in blocks)
    moved = _offset_map(growth)
    out = bytearray()
    at = 0
    for offset, size in sorted(blocks):
        out += data[at:offset] + inflated[offset]
        at = offset + size
    out += data[at:]
    for field in offset_fields:
        struct.pack_into("<Q", out, moved(field), moved(struct.unpack_from("<Q", data, field)[0]))
    for field in size_fields:
        block = struct.unpack_from("<Q", data, field - 8)[0]
        struct.pack_into("<Q", out, moved(field), len(inflated[block]))
    struct.pack_into("<I", out, 52, 0)  # uncompressBufSize 0: the blocks are stored as they are
    target.write_bytes(bytes(out))


def _offset_map(growth: list[tuple[int, int]]) -> Callable[[int], int]:
    """Where a byte at an old offset lies once the blocks before it grew: `growth` is each
    block's (old offset, bytes added), in file order. A block's own start moves by what the
    blocks before it added."""
    starts = np.array([o for o, _ in growth], dtype=np.int64)
    added = np.r_[0, np.cumsum([g for _, g in growth])]
    return lambda offset: int(offset + added[np.searchsorted(starts, offset, side="left")])


# --- the corpus folder -----------------------------------------------------------------------


def stamp_text() -> str:
    return f"bigwig-loader test corpus {VERSION}: stand-ins for ../shared/data/real (tests/python/corpus.py)\n"


def is_corpus(directory: Path) -> bool:
    """True when `directory` holds a complete corpus of this version."""
    stamp = Path(directory) / STAMP
    return stamp.is_file() and stamp.read_text() == stamp_text()


def write_corpus(directory: Path) -> Path:
    """Writes every stand-in into `directory` (created; the stamp last, so that a folder cut
    short is never taken for a corpus) and returns it."""
    directory = Path(directory)
    for relative, write in STAND_INS.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path, directory)
    (directory / STAMP).write_text(stamp_text())
    return directory


def ensure_corpus(directory: Path) -> Path:
    """`directory` holding a complete corpus of this version: left as it is when it does, else
    written in a folder beside it and moved there whole, so that a reader never sees half a
    corpus. A folder there that is not a corpus (an older one is) is left alone: an error."""
    directory = Path(directory).resolve()
    if is_corpus(directory):
        return directory
    if directory.exists() and any(directory.iterdir()) and not (directory / STAMP).is_file():
        raise FileExistsError(f"{directory} exists and is not a test corpus: not overwritten")
    directory.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        write_corpus(fresh)
        if directory.exists():
            shutil.rmtree(directory)
        os.rename(fresh, directory)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return directory


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python tests/python/corpus.py DIR  (writes the test corpus into DIR)", file=sys.stderr)
        return 2
    try:
        print(ensure_corpus(Path(argv[0])))
    except FileExistsError as e:
        print(f"corpus.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
