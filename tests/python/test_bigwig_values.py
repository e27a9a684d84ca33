"""BigWig.values and BigWig.intervals against pyBigWig, the oracle, exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

import bigwig_loader
from conftest import GENERATED_CHROMS, bigwig_id, real_bigwigs, real_file


def oracle_values(path: Path, chrom: str, start: int, end: int) -> np.ndarray:
    with pyBigWig.open(str(path)) as bw:
        return np.asarray(bw.values(chrom, start, end, numpy=True), dtype=np.float32)


def oracle_intervals(path: Path, chrom: str, start: int | None = None, end: int | None = None):
    with pyBigWig.open(str(path)) as bw:
        found = bw.intervals(chrom) if start is None else bw.intervals(chrom, start, end)
    found = found or ()
    return (
        np.array([i[0] for i in found], dtype=np.int64),
        np.array([i[1] for i in found], dtype=np.int64),
        np.array([i[2] for i in found], dtype=np.float32),
    )


def assert_same_floats(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)  # NaN == NaN here, and exact otherwise


@pytest.fixture(params=real_bigwigs() + ["generated"], ids=lambda p: bigwig_id(p) if isinstance(p, Path) else p)
def bigwig_path(request: pytest.FixtureRequest, generated_bigwig: Path) -> Path:
    return generated_bigwig if request.param == "generated" else request.param


def test_chromosomes_equal_pybigwig(bigwig_path: Path) -> None:
    with pyBigWig.open(str(bigwig_path)) as oracle, bigwig_loader.BigWig(bigwig_path) as bw:
        assert bw.chroms == oracle.chroms()
        assert list(bw.chroms) == list(oracle.chroms())


def test_whole_chromosomes_equal_pybigwig(bigwig_path: Path) -> None:
    with bigwig_loader.BigWig(bigwig_path) as bw:
        for chrom, size in bw.chroms.items():
            assert_same_floats(bw.values(chrom, 0, size), oracle_values(bigwig_path, chrom, 0, size))


def test_random_windows_equal_pybigwig(bigwig_path: Path) -> None:
    rng = np.random.default_rng(42)
    with bigwig_loader.BigWig(bigwig_path) as bw, pyBigWig.open(str(bigwig_path)) as oracle:
        chroms = list(bw.chroms.items())
        for _ in range(200):
            chrom, size = chroms[rng.integers(len(chroms))]
            length = int(rng.choice([1, 7, 1000, 5000]))
            length = min(length, size)
            start = int(rng.integers(0, size - length + 1))
            expected = np.asarray(oracle.values(chrom, start, start + length, numpy=True), dtype=np.float32)
            assert_same_floats(bw.values(chrom, start, start + length), expected)


def test_windows_where_the_data_is(bigwig_path: Path) -> None:
    """Random windows land mostly in empty space on sparse files: also test around stored runs."""
    rng = np.random.default_rng(7)
    with bigwig_loader.BigWig(bigwig_path) as bw, pyBigWig.open(str(bigwig_path)) as oracle:
        for chrom, size in bw.chroms.items():
            starts, ends, _ = bw.intervals(chrom)
            if len(starts) == 0:
                continue
            for k in rng.integers(0, len(starts), 30):
                lo = max(0, int(starts[k]) - int(rng.integers(0, 300)))
                hi = min(size, int(ends[k]) + int(rng.integers(1, 300)))
                expected = np.asarray(oracle.values(chrom, lo, hi, numpy=True), dtype=np.float32)
                assert_same_floats(bw.values(chrom, lo, hi), expected)


def test_whole_chromosome_intervals_equal_pybigwig(bigwig_path: Path) -> None:
    with bigwig_loader.BigWig(bigwig_path) as bw:
        for chrom in bw.chroms:
            starts, ends, values = bw.intervals(chrom)
            e_starts, e_ends, e_values = oracle_intervals(bigwig_path, chrom)
            np.testing.assert_array_equal(starts, e_starts)
            np.testing.assert_array_equal(ends, e_ends)
            assert_same_floats(values, e_values)


def test_interval_queries_equal_pybigwig(bigwig_path: Path) -> None:
    rng = np.random.default_rng(3)
    with bigwig_loader.BigWig(bigwig_path) as bw:
        for chrom, size in bw.chroms.items():
            for _ in range(10):
                start = int(rng.integers(0, size))
                end = int(min(size, start + rng.integers(1, 20_000)))
                starts, ends, values = bw.intervals(chrom, start, end)
                e_starts, e_ends, e_values = oracle_intervals(bigwig_path, chrom, start, end)
                np.testing.assert_array_equal(starts, e_starts)
                np.testing.assert_array_equal(ends, e_ends)
                assert_same_floats(values, e_values)


def test_default_replaces_only_bases_without_data(generated_bigwig: Path) -> None:
    with bigwig_loader.BigWig(generated_bigwig) as bw:
        with_nan = bw.values("chrM", 0, 2_000)
        with_default = bw.values("chrM", 0, 2_000, default=5.5)
    stored = np.zeros(2_000, dtype=bool)
    starts, ends, _ = bigwig_loader.BigWig(generated_bigwig).intervals("chrM")
    for s, e in zip(starts, ends):
        stored[s:e] = True
    assert np.isnan(with_nan[150]) and np.isnan(with_default[150]), "a stored NaN stays NaN"
    np.testing.assert_array_equal(with_default[~stored], np.float32(5.5))
    np.testing.assert_array_equal(with_default[stored], with_nan[stored])


def test_generated_file_holds_all_three_section_types(generated_bigwig: Path) -> None:
    with bigwig_loader.BigWig(generated_bigwig) as bw:
        # variableStep, span 3
        starts, ends, _ = bw.intervals("chr2")
        assert np.all(ends - starts == 3)
        # fixedStep, step 10, span 7, from 1001
        starts, ends, _ = bw.intervals("chr3")
        np.testing.assert_array_equal(starts, 1_001 + 10 * np.arange(3_000))
        np.testing.assert_array_equal(ends - starts, 7)
        values = bw.values("chrM", 995, 1_210)
        assert values[5] == 7.0 and values[54] == 7.0 and math.isnan(values[55]) and values[105] == 8.0
        assert np.isnan(bw.values("chrEmpty", 0, 5_000)).all()
        assert [c for c, _ in GENERATED_CHROMS] == list(bw.chroms)


def test_uncompressed_and_compressed_copies_read_identically() -> None:
    raw = bigwig_loader.BigWig(real_file("bbi-js/uncompressed.bw"))
    packed = bigwig_loader.BigWig(real_file("bbi-js/volvox.bw"))
    assert raw.header["uncompress_buf_size"] == 0 and not raw.header["compressed"]
    assert packed.header["compressed"]
    assert raw.chroms == packed.chroms
    for chrom, size in raw.chroms.items():
        np.testing.assert_array_equal(raw.values(chrom, 0, size), packed.values(chrom, 0, size))
        for a, b in zip(raw.intervals(chrom), packed.intervals(chrom)):
            np.testing.assert_array_equal(a, b)


def test_variable_step_matches_its_wig_source() -> None:
    """The .wig is 1-based; the file is 0-based."""
    expected: list[tuple[int, float]] = []
    span = 1
    for line in real_file("bbi-js/variable_step.wig").read_text().splitlines():
        if line.startswith("variableStep"):
            fields = dict(f.split("=") for f in line.split()[1:])
            chrom, span = fields["chrom"], int(fields.get("span", 1))
        elif line.strip() and not line.startswith(("track", "#")):
            pos, value = line.split()
            expected.append((int(pos) - 1, float(value)))
    with bigwig_loader.BigWig(real_file("bbi-js/variable_step.bw")) as bw:
        starts, ends, values = bw.intervals(chrom)
    np.testing.assert_array_equal(starts, [p for p, _ in expected])
    np.testing.assert_array_equal(ends, [p + span for p, _ in expected])
    np.testing.assert_array_equal(values, np.array([v for _, v in expected], dtype=np.float32))


def test_header_fields() -> None:
    path = real_file("bbi-js/ENCFF826FLP.bw")
    with pyBigWig.open(str(path)) as oracle:
        zoom_levels = oracle.header()["nLevels"]  # 9 in the real file, fewer in its stand-in
    with bigwig_loader.BigWig(path) as bw:
        h = bw.header
        assert h["version"] == 4
        assert h["zoom_levels"] == zoom_levels == len(h["zooms"]) > 1
        assert h["uncompress_buf_size"] > 0
        assert h["field_count"] == 0
        assert set(h["total_summary"]) == {"bases_covered", "min", "max", "sum", "sum_squares"}
        assert bw.chroms == {"chr22": 51_304_566}


def test_integer_types_accepted_and_floats_refused(generated_bigwig: Path) -> None:
    with bigwig_loader.BigWig(generated_bigwig) as bw:
        np.testing.assert_array_equal(bw.values("chr1", np.int64(10), np.int32(20)), bw.values("chr1", 10, 20))
        with pytest.raises(TypeError, match="start"):
            bw.values("chr1", 1.5, 20)
        with pytest.raises(TypeError, match="end"):
            bw.intervals("chr1", 0, True)


def test_empty_range_gives_empty_arrays(generated_bigwig: Path) -> None:
    with bigwig_loader.BigWig(generated_bigwig) as bw:
        assert bw.values("chr1", 100, 100).shape == (0,)
        assert all(len(a) == 0 for a in bw.intervals("chr1", 100, 100))
