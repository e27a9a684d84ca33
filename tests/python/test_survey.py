"""_core.survey_bigwig and bigwig_loader.survey: every block read, facts checked against
pyBigWig and against what the test files are known to hold; damaged files listed block by block."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from bigwig_loader import _core, survey
from conftest import bigwig_id, copy_with_corrupt_data, real_bigwigs, real_file


def pybigwig_interval_count(path: Path) -> int:
    bw = pyBigWig.open(str(path))
    try:
        return sum(len(bw.intervals(chrom) or ()) for chrom in bw.chroms())
    finally:
        bw.close()


@pytest.mark.parametrize("path", real_bigwigs(), ids=bigwig_id)
def test_real_files_are_intact_and_every_item_is_counted(path: Path) -> None:
    s = _core.survey_bigwig(str(path))
    assert s["opened"] and s["problems"] == []
    blocks = s["blocks"]
    assert blocks["intact"].all()
    assert int(blocks["items"].sum()) == pybigwig_interval_count(path)
    assert sum(s["items_by_type"].values()) == int(blocks["items"].sum())
    assert sum(s["sections_by_type"].values()) == int(blocks["sections"].sum())
    offsets = blocks["offset"]
    assert np.all(np.diff(offsets.astype(np.int64)) > 0)
    assert np.all(offsets[:-1] + blocks["stored_bytes"][:-1] <= offsets[1:])  # blocks never overlap
    bw = pyBigWig.open(str(path))
    assert len(s["zooms"]) == bw.header()["nLevels"]
    bw.close()


def test_section_types_of_the_generated_file_match_what_was_written(generated_bigwig: Path) -> None:
    # conftest.write_generated: chr1 bedGraph, chr2 variableStep, chr3 fixedStep, and on chrM
    # 3 bedGraph, 3 variableStep and 3 fixedStep items.
    bw = pyBigWig.open(str(generated_bigwig))
    counts = {c: len(bw.intervals(c) or ()) for c in ("chr1", "chr2", "chr3")}
    bw.close()
    s = _core.survey_bigwig(str(generated_bigwig))
    assert s["items_by_type"] == {
        "bedGraph": counts["chr1"] + 3,
        "variableStep": counts["chr2"] + 3,
        "fixedStep": counts["chr3"] + 3,
    }
    assert all(n > 0 for n in s["sections_by_type"].values())


def test_known_facts_of_real_files() -> None:
    encode = survey.file_facts(real_file("bbi-js/ENCFF826FLP.bw"))
    assert encode["compressed"] and encode["version"] == 4
    assert encode["data"]["items_per_block"]["max"] == 1024  # bedGraphToBigWig's itemsPerSlot
    assert encode["sections"]["bedGraph"]["sections"] == encode["data"]["blocks"]
    assert not survey.file_facts(real_file("bbi-js/uncompressed.bw"))["compressed"]
    uncompressed = _core.survey_bigwig(str(real_file("bbi-js/uncompressed.bw")))["blocks"]
    assert np.array_equal(uncompressed["stored_bytes"], uncompressed["inflated_bytes"])
    fixed = survey.file_facts(real_file("bbi-js/fixedStep.bw"))["sections"]
    assert (
        fixed["fixedStep"]["sections"] > 0 and fixed["bedGraph"]["sections"] == fixed["variableStep"]["sections"] == 0
    )
    variable = survey.file_facts(real_file("bbi-js/variable_step.bw"))["sections"]
    assert variable["variableStep"]["items"] > 0 and variable["fixedStep"]["items"] == 0


def test_every_damaged_block_is_a_problem_at_its_offset(tmp_path: Path) -> None:
    corrupt = copy_with_corrupt_data(tmp_path)
    intact = _core.survey_bigwig(str(real_file("bbi-js/volvox.bw")))["blocks"]
    s = _core.survey_bigwig(str(corrupt))
    assert s["opened"]
    damaged = ~s["blocks"]["intact"]
    assert damaged.any() and not damaged.all()
    reported = [p["offset"] for p in s["problems"]]
    assert reported == [int(o) for o in s["blocks"]["offset"][damaged]]
    # The garbled bytes are at the start of the data: the damaged blocks are the first ones.
    assert reported[0] == int(intact["offset"][0])


def test_surveys_from_threads_agree() -> None:
    path = str(real_file("bbi-js/ENCFF826FLP.bw"))
    first = _core.survey_bigwig(path)["blocks"]["items"]
    with ThreadPoolExecutor(4) as pool:
        for s in pool.map(_core.survey_bigwig, [path] * 8):
            assert np.array_equal(s["blocks"]["items"], first)


def test_missing_file_raises_and_non_bigwig_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.bw"):
        _core.survey_bigwig(str(tmp_path / "nope.bw"))
    s = _core.survey_bigwig(str(real_file("clodius/not_a_bigwig_hdf5.bw")))
    assert not s["opened"]
    assert s["problems"] == [{"offset": 0, "message": "not a bigWig file (magic 0x46444889, expected 0x888FFC26)"}]


def test_expand_paths_keeps_named_files_and_searches_directories(tmp_path: Path, collection_dir: Path) -> None:
    named = tmp_path / "notes.txt"
    named.write_text("not a bigWig")
    found = survey.expand_paths([named, collection_dir])
    assert found[0] == named
    assert sorted(p.name for p in found[1:]) == ["a.bw", "b.bw", "c.bw"]
    with pytest.raises(FileNotFoundError, match="missing.bw"):
        survey.expand_paths([tmp_path / "missing.bw"])
