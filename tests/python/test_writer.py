"""bigwig_loader.BigWigWriter and write_bigwig: files read back identically by pyBigWig,
pybigtools and this library's reader, with header, zoom levels and stats checked against the
data; bad input refused with errors naming the chromosome; the file appears only when
complete."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pybigtools
import pytest

import bigwig_loader
from bigwig_loader import BigWigWriter, write_bigwig
from conftest import real_file
from writer_checks import assert_intact, assert_reads_back, exact_stats


def random_runs(rng: np.random.Generator, size: int, n: int, nan_fraction: float = 0.0):
    """Up to n sorted, non-overlapping runs inside [0, size): lengths 1..50 (many single
    bases), gaps 0..30, integer values (so sums are exact in float32 and double)."""
    lengths = np.where(rng.random(n) < 0.3, 1, rng.integers(1, 50, n))
    gaps = rng.integers(0, 30, n) * (rng.random(n) < 0.5)
    starts = np.cumsum(np.r_[0, (lengths + gaps)[:-1]]) + rng.integers(0, 100)
    ends = starts + lengths
    keep = ends <= size
    values = rng.integers(-20, 20, n).astype(np.float32)
    values[rng.random(n) < nan_fraction] = np.nan
    return starts[keep].astype(np.int64), ends[keep].astype(np.int64), values[keep]


def without_nan(s, e, v):
    keep = ~np.isnan(v)
    return s[keep], e[keep], v[keep]


# --- reading back --------------------------------------------------------------------------


def test_many_chromosomes_gaps_nan_single_bases_and_huge_runs(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    # 300 chromosomes: more than one node of the chromosome B+ tree (256 per node) and more
    # than 256 data blocks, so both indexes have an internal level.
    sizes = {f"chr{i}": int(rng.integers(2_000, 30_000)) for i in range(300)}
    sizes["chrHuge"] = 3_000_000_000
    expected = {}
    path = tmp_path / "many.bw"
    with BigWigWriter(path, sizes) as w:
        for i, (chrom, size) in enumerate(sizes.items()):
            if chrom == "chrHuge":
                s = np.array([0, 2_000_000_000, 2_999_999_999])
                e = np.array([1_999_999_990, 2_999_999_000, 3_000_000_000])
                v = np.array([1.5, -2.0, 7.0], np.float32)
            elif i % 7 == 3:
                continue  # no data on this chromosome
            else:
                s, e, v = random_runs(rng, size, 400, nan_fraction=0.05)
            w.add_intervals(chrom, s, e, v)
            expected[chrom] = without_nan(s, e, v)
    per_base_sizes = {c: n for c, n in sizes.items() if c != "chrHuge"}
    assert_reads_back(path, sizes, expected, per_base=False)
    # Per base on a sample of the chromosomes (all of them would only repeat the same check).
    sample = {c: sizes[c] for c in list(per_base_sizes)[:20]}
    pb = pyBigWig.open(str(path))
    with bigwig_loader.BigWig(path) as ours:
        for chrom, size in sample.items():
            np.testing.assert_array_equal(ours.values(chrom, 0, size), pb.values(chrom, 0, size, numpy=True))
    pb.close()


def test_header_and_total_summary(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    sizes = {"chr1": 800_000, "chr2": 600_000}
    data = {c: random_runs(rng, n, 20_000) for c, n in sizes.items()}
    assert all(len(s) == 20_000 for s, _, _ in data.values())
    path = tmp_path / "h.bw"
    with BigWigWriter(path, sizes) as w:
        for c, (s, e, v) in data.items():
            w.add_intervals(c, s, e, v)
    with bigwig_loader.BigWig(path) as b:
        h = b.header
    assert h["version"] == 4
    assert h["compressed"]
    assert 1 <= h["zoom_levels"] <= 10
    assert h["field_count"] == 0 and h["defined_field_count"] == 0 and h["auto_sql_offset"] == 0
    # Blocks of 1,024 items, a new one for each chromosome, as bedGraphToBigWig cuts them.
    assert h["block_count"] == 2 * math.ceil(20_000 / 1024)
    assert h["uncompress_buf_size"] >= 24 + 1024 * 12
    total = {k: 0.0 for k in ("bases", "sum", "sum_squares")}
    lo, hi = math.inf, -math.inf
    for s, e, v in data.values():
        st = exact_stats(s, e, v, 0, 1 << 32)
        total["bases"] += st["bases"]
        total["sum"] += st["sum"]
        total["sum_squares"] += st["sum_squares"]
        lo, hi = min(lo, st["min"]), max(hi, st["max"])
    ts = h["total_summary"]
    assert ts["bases_covered"] == total["bases"]
    assert (ts["min"], ts["max"]) == (lo, hi)
    assert ts["sum"] == total["sum"]  # integer values: exact
    assert ts["sum_squares"] == total["sum_squares"]
    pb = pyBigWig.open(str(path))
    assert pb.header()["nLevels"] == h["zoom_levels"]
    assert pb.header()["nBasesCovered"] == total["bases"]
    pb.close()
    assert_intact(path)


def test_zoom_records_summarise_the_data_exactly(tmp_path: Path) -> None:
    """Every record of every zoom level (read with pybigtools) covers what the data says it
    covers: bases, min, max, sum and sum of squares over [start, end), exact for integer
    values; the records of a level tile the data in order, each at most the reduction long;
    the levels grow by 4x (UCSC's scheme)."""
    rng = np.random.default_rng(3)
    sizes = {"chrA": 400_000, "chrB": 250_000, "chrC": 1000}
    data = {c: random_runs(rng, n, 15_000) for c, n in sizes.items() if c != "chrC"}
    data["chrC"] = (np.array([0, 999]), np.array([999, 1000]), np.array([3.0, 4.0], np.float32))
    path = tmp_path / "z.bw"
    with BigWigWriter(path, sizes) as w:
        for c, (s, e, v) in data.items():
            w.add_intervals(c, s, e, v)
    bt = pybigtools.open(str(path))
    levels = bt.zooms()
    assert 2 <= len(levels) <= 10
    assert all(b == a * 4 for a, b in zip(levels, levels[1:]))
    for level in levels:
        for chrom, (s, e, v) in data.items():
            records = list(bt.zoom_records(level, chrom))
            assert records, (level, chrom)
            covered = 0
            last_end = 0
            for start, end, summary in records:
                assert last_end <= start < end <= sizes[chrom]
                assert end - start <= level
                last_end = end
                st = exact_stats(s, e, v, start, end)
                assert summary["bases_covered"] == st["bases"]
                assert summary["min_val"] == st["min"] and summary["max_val"] == st["max"]
                assert summary["sum"] == pytest.approx(st["sum"], rel=1e-6, abs=1e-3)
                assert summary["sum_squares"] == pytest.approx(st["sum_squares"], rel=1e-6, abs=1e-3)
                covered += st["bases"]
            assert covered == exact_stats(s, e, v, 0, sizes[chrom])["bases"]
    bt.close()
    assert_intact(path)


def test_fixed_step_zoom_levels_follow_wig_to_bigwig_and_summarise_exactly(tmp_path: Path) -> None:
    """Per-base fixedStep data: the first zoom level is chosen as wigToBigWig chooses it (not
    the 10 bases bedGraphToBigWig's rule would give), and its records are exact."""
    rng = np.random.default_rng(8)
    n = 400_000
    values = rng.integers(-8, 8, n).astype(np.float32)
    path = tmp_path / "fixedzoom.bw"
    with BigWigWriter(path, {"chr1": n}) as w:
        w.add_values("chr1", 0, values, step=1)
    bt = pybigtools.open(str(path))
    levels = bt.zooms()
    # 10 x resolution 1 = 10 bases makes 40,000 summaries, 2.56 MB at 64 bytes each: more than
    # half the data (1.6 MB of values and 24-byte section headers), so the reduction grows by
    # 1.1 x the factor it missed by, to 34 bases, where the summaries fit.
    raw = n * 4 + math.ceil(n / 1024) * 24
    expected = int(1.1 * 10 * (n // 10 * 64) / (raw // 2))
    assert expected == 34 and (n / expected + 1) * 64 < raw / 2
    assert levels[0] == expected
    assert all(b == a * 4 for a, b in zip(levels, levels[1:]))
    starts = np.arange(n)
    for level in levels[:3]:
        for start, end, summary in bt.zoom_records(level, "chr1"):
            # Base i is item i: the record's own items, not all 400,000 per record (that took minutes).
            near = slice(start, end)
            st = exact_stats(starts[near], starts[near] + 1, values[near], start, end)
            assert summary["bases_covered"] == st["bases"] == end - start
            assert (summary["min_val"], summary["max_val"]) == (st["min"], st["max"])
            assert summary["sum"] == st["sum"] and summary["sum_squares"] == st["sum_squares"]
    bt.close()
    assert_intact(path)


def test_pybigwig_stats_from_zoom_levels_match_exact_stats(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    sizes = {"chr1": 2_000_000}
    s, e, v = random_runs(rng, 2_000_000, 60_000)
    path = tmp_path / "s.bw"
    with BigWigWriter(path, sizes) as w:
        w.add_intervals("chr1", s, e, v)
    pb = pyBigWig.open(str(path))
    st = exact_stats(s, e, v, 0, sizes["chr1"])
    # Whole chromosome: every zoom record lies inside the range, so the zoom arithmetic is
    # exact up to float32 storage of the sums.
    assert pb.stats("chr1", type="min")[0] == st["min"]
    assert pb.stats("chr1", type="max")[0] == st["max"]
    assert pb.stats("chr1", type="coverage")[0] == pytest.approx(st["bases"] / sizes["chr1"], rel=1e-12)
    assert pb.stats("chr1", type="mean")[0] == pytest.approx(st["sum"] / st["bases"], rel=1e-6)
    pb.close()
    assert_intact(path)


def test_pybigwig_binned_stats_from_zoom_levels_are_exact_where_records_align(tmp_path: Path) -> None:
    """A dense track of 10-base items from base 0: the average item is 10 bases, so the
    reductions are 10 * 4^k and every zoom record starts on a multiple of its reduction. Bins
    of 10 * 4^7 bases then hold whole records whichever level pyBigWig picks, and its answers
    from the zoom levels equal the exact ones."""
    rng = np.random.default_rng(7)
    bin_width = 10 * 4**7
    n_bins = 20
    size = bin_width * n_bins
    starts = np.arange(0, size, 10)
    v = rng.integers(-50, 50, starts.size).astype(np.float32)
    path = tmp_path / "aligned.bw"
    with BigWigWriter(path, {"chr1": size}) as w:
        w.add_intervals("chr1", starts, starts + 10, v)
    with bigwig_loader.BigWig(path) as b:
        reductions = [z["reduction_level"] for z in b.header["zooms"]]
    assert reductions and all(r % 10 == 0 and (r // 10) & (r // 10 - 1) == 0 for r in reductions)
    pb = pyBigWig.open(str(path))
    for kind in ("mean", "min", "max", "coverage", "std"):
        zoom = np.array(pb.stats("chr1", 0, size, type=kind, nBins=n_bins), float)
        exact = np.array(pb.stats("chr1", 0, size, type=kind, nBins=n_bins, exact=True), float)
        np.testing.assert_allclose(zoom, exact, rtol=1e-6, atol=1e-9, err_msg=kind)
    pb.close()
    assert_intact(path)


def test_reencodes_a_real_encode_file_identically(tmp_path: Path) -> None:
    source = real_file("bbi-js/ENCFF826FLP.bw")
    pb = pyBigWig.open(str(source))
    sizes = pb.chroms()
    expected = {}
    path = tmp_path / "encode.bw"
    with BigWigWriter(path, sizes) as w:
        for chrom in sizes:
            iv = pb.intervals(chrom) or []
            if not iv:
                continue
            arr = np.array(iv, dtype=np.float64)
            s, e, v = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2].astype(np.float32)
            w.add_intervals(chrom, s, e, v)
            expected[chrom] = (s, e, v)
    pb.close()
    assert_reads_back(path, sizes, expected)


# --- add_values ------------------------------------------------------------------------------


def test_add_values_merges_equal_neighbours_into_runs(tmp_path: Path) -> None:
    values = np.array([1, 1, 1, 2, 2, np.nan, np.nan, 3, 3, 3, 3, 0, 0], np.float32)
    path = tmp_path / "runs.bw"
    with BigWigWriter(path, {"chr1": 1000}) as w:
        w.add_values("chr1", 100, values[:4])
        w.add_values("chr1", 104, values[4:])  # the run of 2 continues across calls
        w.add_values("chr1", 500, np.full(50, 0.25, np.float32), span=10)  # bins of 10 bases
    expected = {
        "chr1": (
            np.array([100, 103, 107, 111, 500]),
            np.array([103, 105, 111, 113, 1000]),
            np.array([1, 2, 3, 0, 0.25], np.float32),
        )
    }
    assert_reads_back(path, {"chr1": 1000}, expected)


def test_add_values_long_dense_track_spans_many_blocks(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 300_000
    values = np.round(rng.random(n) * 8).astype(np.float32) / 4  # runs of equal values occur
    values[1000:1500] = np.nan
    path = tmp_path / "dense.bw"
    with BigWigWriter(path, {"chr1": n + 10, "chr2": 50}) as w:
        w.add_values("chr1", 10, values)
    with bigwig_loader.BigWig(path) as b:
        got = b.values("chr1", 0, n + 10)
    np.testing.assert_array_equal(got[10:], values)
    assert np.isnan(got[:10]).all()
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.r_[0, change] + 10
    ends = np.r_[change, n] + 10
    v = values[np.r_[0, change]]
    assert_reads_back(path, {"chr1": n + 10, "chr2": 50}, {"chr1": without_nan(starts, ends, v)})


def test_add_values_with_step_writes_fixed_step_sections(tmp_path: Path) -> None:
    values = np.arange(3000, dtype=np.float32)
    values[7] = np.nan  # ends a fixedStep section; the next starts after it
    path = tmp_path / "fixed.bw"
    with BigWigWriter(path, {"chr1": 100_000}) as w:
        w.add_values("chr1", 5, values, span=5, step=20)
    survey = bigwig_loader._core.survey_bigwig(str(path))
    assert survey["problems"] == []
    assert survey["sections_by_type"] == {"bedGraph": 0, "variableStep": 0, "fixedStep": 4}  # 7 | 1024 | 1024 | 944
    idx = np.flatnonzero(~np.isnan(values))
    starts = 5 + idx * 20
    assert_reads_back(path, {"chr1": 100_000}, {"chr1": (starts, starts + 5, values[idx])})


def test_keep_nan_writes_nan_values(tmp_path: Path) -> None:
    s, e = np.array([0, 10, 20]), np.array([10, 20, 30])
    v = np.array([1, np.nan, 3], np.float32)
    path = tmp_path / "nan.bw"
    with BigWigWriter(path, {"chr1": 100}, keep_nan=True) as w:
        w.add_intervals("chr1", s, e, v)
    with bigwig_loader.BigWig(path) as b:
        starts, ends, values = b.intervals("chr1")
    np.testing.assert_array_equal(starts, s)
    assert np.isnan(values[1]) and values[0] == 1 and values[2] == 3
    with BigWigWriter(tmp_path / "skip.bw", {"chr1": 100}) as w:
        w.add_intervals("chr1", s, e, v)
    with bigwig_loader.BigWig(tmp_path / "skip.bw") as b:
        np.testing.assert_array_equal(b.intervals("chr1")[0], [0, 20])
    assert_intact(path)
    assert_intact(tmp_path / "skip.bw")


# --- write_bigwig, chrom_sizes forms, empty and order -----------------------------------------


def test_write_bigwig_from_a_dataframe(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "chrom": ["chr2", "chr2", "chr1", "chr1"],
            "start": [0, 50, 5, 7],
            "end": [10, 60, 6, 100],
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    sizes = pd.Series({"chr1": 100, "chr2": 200})
    path = tmp_path / "df.bw"
    write_bigwig(path, sizes, df)
    expected = {
        "chr2": (np.array([0, 50]), np.array([10, 60]), np.array([1, 2], np.float32)),
        "chr1": (np.array([5, 7]), np.array([6, 100]), np.array([3, 4], np.float32)),
    }
    assert_reads_back(path, {"chr1": 100, "chr2": 200}, expected)
    with pytest.raises(ValueError, match="missing column"):
        write_bigwig(tmp_path / "bad.bw", sizes, df.rename(columns={"value": "score"}))


@pytest.mark.parametrize("form", ["dict", "pairs", "series", "file"])
def test_chrom_sizes_forms(tmp_path: Path, form: str) -> None:
    sizes = {"chr1": 100, "chr10": 50, "chr2": 70}
    arg = {"dict": sizes, "pairs": list(sizes.items()), "series": pd.Series(sizes)}.get(form)
    if form == "file":
        arg = tmp_path / "genome.sizes"
        arg.write_text("".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    path = tmp_path / "f.bw"
    with BigWigWriter(path, arg) as w:
        w.add_intervals("chr2", [1], [2], [5.0])
    assert_reads_back(path, sizes, {"chr2": (np.array([1]), np.array([2]), np.array([5], np.float32))})


def test_a_file_with_no_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.bw"
    with BigWigWriter(path, {"chr1": 100, "chr2": 10}):
        pass
    assert_reads_back(path, {"chr1": 100, "chr2": 10}, {})


def test_chromosomes_in_any_order_each_in_one_stretch(tmp_path: Path) -> None:
    sizes = {"chr1": 100, "chr2": 100, "chr10": 100}
    path = tmp_path / "order.bw"
    with BigWigWriter(path, sizes) as w:
        w.add_intervals("chr10", [0], [5], [1.0])
        w.add_intervals("chr2", [0], [5], [2.0])
        w.add_intervals("chr2", [5], [6], [2.5])
        w.add_intervals("chr1", [3], [4], [3.0])
    expected = {
        "chr10": (np.array([0]), np.array([5]), np.array([1], np.float32)),
        "chr2": (np.array([0, 5]), np.array([5, 6]), np.array([2, 2.5], np.float32)),
        "chr1": (np.array([3]), np.array([4]), np.array([3], np.float32)),
    }
    assert_reads_back(path, sizes, expected)


def test_writers_in_threads(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    data = [random_runs(rng, 1_000_000, 50_000) for _ in range(4)]
    errors = []

    def write(i: int) -> None:
        try:
            with BigWigWriter(tmp_path / f"t{i}.bw", {"chr1": 1_000_000}) as w:
                w.add_intervals("chr1", *data[i])
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i in range(4):
        assert_reads_back(tmp_path / f"t{i}.bw", {"chr1": 1_000_000}, {"chr1": data[i]}, per_base=False)


# --- errors -----------------------------------------------------------------------------------


@pytest.fixture()
def writer(tmp_path: Path):
    w = BigWigWriter(tmp_path / "e.bw", {"chr1": 1000, "chr2": 500})
    yield w
    w.abort()


def test_unknown_chromosome_is_a_key_error_naming_it(writer: BigWigWriter) -> None:
    with pytest.raises(KeyError, match="chrZ"):
        writer.add_intervals("chrZ", [0], [1], [1.0])


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ([10, 5], [20, 8], r"chr1: interval 1 \[5, 8\) starts before the previous one ends \(20\)"),
        ([10, 15], [20, 30], r"chr1: interval 1 \[15, 30\) starts before the previous one ends"),
        ([10], [10], r"chr1: interval 0 \[10, 10\) is empty"),
        ([-1], [10], r"chr1: interval 0 \[-1, 10\) starts before 0"),
        ([990], [1001], r"chr1: interval 0 \[990, 1001\) ends past the chromosome's end \(1000\)"),
    ],
)
def test_bad_intervals_name_the_chromosome(writer: BigWigWriter, starts, ends, message) -> None:
    with pytest.raises(ValueError, match=message):
        writer.add_intervals("chr1", starts, ends, [1.0] * len(starts))


def test_out_of_order_across_calls_and_revisited_chromosome(writer: BigWigWriter) -> None:
    writer.add_intervals("chr1", [100], [200], [1.0])
    with pytest.raises(ValueError, match=r"chr1: interval 0 \[150, 160\) starts before the previous one ends \(200\)"):
        writer.add_intervals("chr1", [150], [160], [1.0])
    with pytest.raises(ValueError, match=r"chr1: values start at 50, before the end of the previous data \(200\)"):
        writer.add_values("chr1", 50, [1.0])
    writer.add_intervals("chr2", [0], [10], [1.0])
    with pytest.raises(ValueError, match="data for chromosome chr1 comes after data for chr2"):
        writer.add_intervals("chr1", [300], [310], [1.0])


def test_bad_add_values_arguments(writer: BigWigWriter) -> None:
    with pytest.raises(ValueError, match=r"chr1: 10 values from 995 reach 1005, past the chromosome's end \(1000\)"):
        writer.add_values("chr1", 995, np.ones(10))
    with pytest.raises(ValueError, match="step 2 is smaller than span 5"):
        writer.add_values("chr1", 0, np.ones(10), span=5, step=2)
    with pytest.raises(ValueError, match="span"):
        writer.add_values("chr1", 0, np.ones(10), span=0)
    with pytest.raises(ValueError, match="start must be an integer"):
        writer.add_values("chr1", 1.5, np.ones(10))


def test_bad_arrays(writer: BigWigWriter) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        writer.add_intervals("chr1", [0, 5], [1, 6], [1.0])
    with pytest.raises(ValueError, match="starts must hold integers"):
        writer.add_intervals("chr1", [0.5], [1], [1.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        writer.add_values("chr1", 0, np.ones((2, 2)))


def test_a_refused_call_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.bw"
    with BigWigWriter(path, {"chr1": 1000}) as w:
        w.add_intervals("chr1", [0], [10], [1.0])
        with pytest.raises(ValueError):
            w.add_intervals("chr1", [20, 30, 25], [25, 40, 26], [2.0, 3.0, 4.0])  # third overlaps
        w.add_intervals("chr1", [20], [25], [5.0])
    assert_reads_back(
        path, {"chr1": 1000}, {"chr1": (np.array([0, 20]), np.array([10, 25]), np.array([1, 5], np.float32))}
    )


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({}, "at least one chromosome"),
        ({"chr1": 0}, "chromosome chr1 has size 0"),
        ({"chr1": 1 << 32}, "sizes must be in"),
        ([("chr1", 5), ("chr1", 6)], "chromosome chr1 is listed twice"),
        ({"": 5}, "name is empty"),
        ([("chr1",)], "expected \\(name, size\\) pairs"),
    ],
)
def test_bad_chrom_sizes(tmp_path: Path, sizes, message) -> None:
    with pytest.raises(ValueError, match=message):
        BigWigWriter(tmp_path / "x.bw", sizes)
    assert list(tmp_path.iterdir()) == []


def test_closed_writer_refuses_data(tmp_path: Path) -> None:
    w = BigWigWriter(tmp_path / "c.bw", {"chr1": 10})
    w.close()
    w.close()  # a second close does nothing
    with pytest.raises(ValueError, match="closed"):
        w.add_intervals("chr1", [0], [1], [1.0])


# --- the file appears only when complete -------------------------------------------------------


def test_exception_in_with_block_leaves_existing_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "keep.bw"
    path.write_bytes(b"precious")
    with pytest.raises(RuntimeError, match="boom"):
        with BigWigWriter(path, {"chr1": 100}) as w:
            w.add_intervals("chr1", [0], [10], [1.0])
            assert path.read_bytes() == b"precious"  # nothing under the real name yet
            assert len(list(tmp_path.iterdir())) == 2  # the temporary file beside it
            raise RuntimeError("boom")
    assert path.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [path]


def test_abort_and_garbage_collection_leave_no_file(tmp_path: Path) -> None:
    w = BigWigWriter(tmp_path / "a.bw", {"chr1": 100})
    w.add_intervals("chr1", [0], [10], [1.0])
    w.abort()
    assert list(tmp_path.iterdir()) == []
    w = BigWigWriter(tmp_path / "b.bw", {"chr1": 100})
    del w
    assert list(tmp_path.iterdir()) == []


def test_replaces_an_existing_file_only_at_close(tmp_path: Path) -> None:
    path = tmp_path / "r.bw"
    path.write_bytes(b"old")
    with BigWigWriter(path, {"chr1": 100}) as w:
        w.add_intervals("chr1", [0], [10], [1.0])
    assert_reads_back(path, {"chr1": 100}, {"chr1": (np.array([0]), np.array([10]), np.array([1], np.float32))})
    assert sorted(os.listdir(tmp_path)) == ["r.bw"]


def test_missing_directory_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BigWigWriter(tmp_path / "no" / "such.bw", {"chr1": 10})


# --- issue 21: names, levels, values, NaN summaries, dead writers' temporaries ------------------


def test_chromosome_names_follow_the_readers_rule(tmp_path: Path) -> None:
    """Names over 4,096 bytes were written (pyBigWig reads them), then refused by this library's
    own reader as a corrupt chromosome tree: one rule for both now."""
    longest = "c" * 4_096
    with BigWigWriter(tmp_path / "long.bw", {longest: 100}) as w:
        w.add_intervals(longest, [0], [10], [1.0])
    with bigwig_loader.BigWig(tmp_path / "long.bw") as b:
        assert b.chroms == {longest: 100}
    with pytest.raises(ValueError, match=r"chromosome name 'c{60}\.\.\. \(4097 bytes\)' is longer than 4096 bytes"):
        BigWigWriter(tmp_path / "longer.bw", {"c" * 4_097: 100})
    # A NUL: the message shows the whole name, not the part before the NUL.
    with pytest.raises(ValueError, match=r"chromosome name 'chr\\0tail' contains a NUL"):
        BigWigWriter(tmp_path / "nul.bw", {"chr\0tail": 100})
    assert sorted(os.listdir(tmp_path)) == ["long.bw"]


@pytest.mark.parametrize("level", [0, 13, -1])
def test_compression_levels_outside_the_scale_are_refused(tmp_path: Path, level: int) -> None:
    with pytest.raises(ValueError, match=rf"compression_level must be 1 \(fastest\) to 12 \(smallest\), got {level}"):
        BigWigWriter(tmp_path / "x.bw", {"chr1": 100}, compression_level=level)
    assert os.listdir(tmp_path) == []


def test_values_beyond_float32_and_non_str_chromosomes_are_refused(tmp_path: Path) -> None:
    with BigWigWriter(tmp_path / "x.bw", {"chr1": 100}) as w:
        with pytest.raises(ValueError, match=r"values\[1\] = 1e\+39 is beyond float32's range"):
            w.add_intervals("chr1", [0, 10], [10, 20], np.array([1.0, 1e39]))
        with pytest.raises(ValueError, match=r"values\[0\] = -1e\+300 is beyond float32's range"):
            w.add_values("chr1", 0, [-1e300])
        with pytest.raises(TypeError, match="chrom must be a str .*got int 1"):
            w.add_intervals(1, [0], [10], [1.0])
        with pytest.raises(TypeError, match="chrom must be a str"):
            w.add_values(None, 0, [1.0])
        w.add_intervals("chr1", [0], [10], np.array([np.inf, -np.inf])[:1])  # an infinity given is stored
    with bigwig_loader.BigWig(tmp_path / "x.bw") as b:
        assert b.intervals("chr1")[2].tolist() == [np.inf]


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 0, 2], [2, 1, 0]])
def test_keep_nan_summary_ignores_nan_whatever_the_order(tmp_path: Path, order: list[int]) -> None:
    """With NaN first, the header's summary said min = max = NaN; NaN items are no value."""
    pieces = [(np.nan, 10), (1.0, 20), (4.0, 5)]
    starts, ends, values, at = [], [], [], 0
    for k in order:
        value, length = pieces[k]
        starts.append(at), ends.append(at + length), values.append(value)
        at += length
    path = tmp_path / "nan.bw"
    with BigWigWriter(path, {"chr1": 100}, keep_nan=True) as w:
        w.add_intervals("chr1", starts, ends, np.array(values, np.float32))
    bw = pyBigWig.open(str(path))
    try:
        header = bw.header()
        assert (header["minVal"], header["maxVal"], header["nBasesCovered"]) == (1, 4, 25)
        assert header["sumData"] == 1 * 20 + 4 * 5
    finally:
        bw.close()
    bt = pybigtools.open(str(path))
    try:
        for level in bt.zooms():  # the zoom levels leave NaN out too
            (record,) = [summary for _, _, summary in bt.zoom_records(level, "chr1")]
            assert (record["min_val"], record["max_val"], record["bases_covered"]) == (1, 4, 25)
    finally:
        bt.close()


def write_and_die(path: Path) -> None:
    """A writer process killed mid-write (SIGKILL: no clean-up of any kind runs)."""
    import subprocess
    import sys

    script = (
        "import os, signal, numpy as np\n"
        "from bigwig_loader import BigWigWriter\n"
        f"w = BigWigWriter({str(path)!r}, {{'chr1': 10_000_000}})\n"
        "s = np.arange(0, 9_000_000, 10)\n"
        "w.add_intervals('chr1', s, s + 5, np.ones(len(s)))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    path = tmp_path / "out.bw"
    write_and_die(path)
    (first,) = [p.name for p in tmp_path.iterdir()]
    write_and_die(path)  # its start removed the first one's
    (second,) = [p.name for p in tmp_path.iterdir()]
    assert first != second and first.startswith(".out.bw.") and second.startswith(".out.bw.")
    (tmp_path / ".out.bw.keep").write_bytes(b"not a temporary: suffix of 4")
    (tmp_path / ".other.bw.abcdef").write_bytes(b"another destination's")
    with BigWigWriter(path, {"chr1": 100}) as w:
        w.add_intervals("chr1", [0], [10], [1.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.bw.abcdef", ".out.bw.keep", "out.bw"]


def test_a_live_writers_temporary_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "out.bw"
    first = BigWigWriter(path, {"chr1": 100})
    first.add_intervals("chr1", [0], [10], [1.0])
    with BigWigWriter(path, {"chr1": 100}) as second:  # cleans up dead writers' files only
        second.add_intervals("chr1", [0], [10], [2.0])
    first.close()  # its temporary was still there to rename
    with bigwig_loader.BigWig(path) as b:
        assert b.intervals("chr1")[2].tolist() == [1.0]
    assert sorted(os.listdir(tmp_path)) == ["out.bw"]
