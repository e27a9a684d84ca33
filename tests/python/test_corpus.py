"""The test corpus (corpus.py): each stand-in keeps what the tests rely on in the real file it
replaces, reads the same in two independent readers, and is the same bytes every time it is
written; the command line that scripts/real_data.sh runs writes a folder once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pybigtools
import pyBigWig
import pytest

import corpus
from bigwig_loader import ReferenceGenome, _core
from conftest import corpus_dir, shared_real_data


def section_types(path: Path) -> set[str]:
    return {kind for kind, n in _core.survey_bigwig(str(path))["sections_by_type"].items() if n > 0}


def assert_facts(path: Path, relative: str) -> None:
    chroms, types = corpus.FACTS[relative]
    with pyBigWig.open(str(path)) as bw:
        assert list(bw.chroms().items()) == list(chroms.items()), path
    assert section_types(path) == types, path
    compressed = _core.BigWigFile(str(path)).header["compressed"]
    assert compressed == (relative != "bbi-js/uncompressed.bw"), path


@pytest.mark.parametrize("relative", sorted(corpus.FACTS))
def test_every_stand_in_keeps_the_facts_of_its_real_file(relative: str) -> None:
    assert_facts(corpus_dir() / relative, relative)
    shared = shared_real_data()
    if shared is not None and (shared / relative).is_file():  # the table describes the real file too
        assert_facts(shared / relative, relative)


@pytest.mark.parametrize("relative", sorted(corpus.FACTS))
def test_pybigwig_and_pybigtools_read_each_stand_in_alike(relative: str) -> None:
    """libBigWig and bigtools read what either of them (or the inflated copy) wrote the same way:
    the stand-ins are sound bigWigs, whoever wrote them."""
    path = corpus_dir() / relative
    with pyBigWig.open(str(path)) as a:
        b = pybigtools.open(str(path))
        for chrom, size in a.chroms().items():
            intervals = a.intervals(chrom) or ()
            assert [tuple(i) for i in intervals] == [tuple(r) for r in b.records(chrom)]
            # Per base over the first 2 Mb with data (whole chromosomes reach 249 Mb); fillna=None:
            # NaN where no item lies, as pyBigWig gives.
            lo = max(0, intervals[0][0] - 100) if intervals else 0
            hi = min(size, lo + 2_000_000)
            np.testing.assert_array_equal(a.values(chrom, lo, hi, numpy=True), b.values(chrom, lo, hi, fillna=None))
        b.close()


def test_the_uncompressed_stand_in_is_volvox_stored_inflated() -> None:
    volvox, raw = corpus_dir() / "bbi-js" / "volvox.bw", corpus_dir() / "bbi-js" / "uncompressed.bw"
    assert raw.read_bytes()[52:56] == b"\0\0\0\0"  # uncompressBufSize 0
    assert raw.stat().st_size > 2 * volvox.stat().st_size
    with pyBigWig.open(str(volvox)) as a, pyBigWig.open(str(raw)) as b:
        assert a.header() == b.header() and a.header()["nLevels"] > 0
        assert a.intervals("ctgA") == b.intervals("ctgA")
        # Summaries come from the zoom levels: their (inflated) blocks read as the compressed ones.
        for n_bins in (1, 7, 300):
            assert a.stats("ctgA", 0, 50_001, nBins=n_bins) == b.stats("ctgA", 0, 50_001, nBins=n_bins)
    blocks = _core.survey_bigwig(str(raw))["blocks"]
    np.testing.assert_array_equal(blocks["stored_bytes"], blocks["inflated_bytes"])


@pytest.mark.parametrize("relative", ["deeptools/phiX.fasta"])
def test_a_fasta_stand_in_has_the_index_a_reader_builds(relative: str, tmp_path: Path) -> None:
    copy = tmp_path / Path(relative).name
    shutil.copy(corpus_dir() / relative, copy)
    ReferenceGenome(copy)  # no .fai beside the copy: the reader writes one
    assert Path(f"{copy}.fai").read_text() == Path(f"{corpus_dir() / relative}.fai").read_text()


def test_the_corpus_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    again = corpus.write_corpus(tmp_path / "again")
    written = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(corpus_dir()) for p in corpus_dir().rglob("*") if p.is_file())
    assert {str(p) for p in written} >= set(corpus.STAND_INS)
    for relative in written:
        assert (again / relative).read_bytes() == (corpus_dir() / relative).read_bytes(), relative


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    script = Path(corpus.__file__)
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_the_command_line_writes_a_folder_once(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "corpus"
    done = run_cli(target)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target) and corpus.is_corpus(target)
    assert not [p for p in target.parent.iterdir() if p != target]  # no half-written folder left
    stamp = (target / corpus.STAMP).stat().st_mtime_ns
    assert corpus.main([str(target)]) == 0
    assert (target / corpus.STAMP).stat().st_mtime_ns == stamp, "a current corpus is left as it is"
    (target / corpus.STAMP).write_text("bigwig-loader test corpus 0\n")  # an older version
    os.remove(target / "bbi-js" / "volvox.bw")
    assert corpus.main([str(target)]) == 0
    assert corpus.is_corpus(target) and (target / "bbi-js" / "volvox.bw").is_file()


def test_the_command_line_leaves_other_folders_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a corpus")
    assert corpus.main([str(tmp_path)]) == 1
    assert "is not a test corpus: not overwritten" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
    assert corpus.main([]) == 2
    assert "usage: python tests/python/corpus.py DIR" in capsys.readouterr().err
