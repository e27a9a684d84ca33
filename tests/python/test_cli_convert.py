"""`bigwig-loader convert IN.bedGraph OUT.bw --chrom-sizes SIZES`: the bigWig read back equals
the bedGraph in three readers and passes validate; each kind of bad line is reported with its
line number, exit status 1, and no output file."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import tqdm

from bigwig_loader import bedgraph, cli
from writer_checks import assert_reads_back

SIZES = {"chr1": 50_000, "chr2": 30_000, "chrM": 16_569}


def run(*argv: object) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([str(a) for a in argv], out=out)
    return code, out.getvalue()


def write_sizes(tmp_path: Path) -> Path:
    path = tmp_path / "genome.sizes"
    path.write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    return path


def generated_bedgraph(seed: int = 0):
    """Runs on chr1 and chrM (chr2 left empty), integer-ish values, some NaN, as text with a
    track line, a browser line, comments and blank lines."""
    rng = np.random.default_rng(seed)
    expected, lines = {}, ["track type=bedGraph name=x", "browser position chr1:1-100", "# a comment", ""]
    for chrom in ("chr1", "chrM"):
        lengths = rng.integers(1, 30, 3000)
        starts = np.cumsum(np.r_[0, lengths[:-1] + rng.integers(0, 5, 2999)])
        ends = starts + lengths
        keep = ends <= SIZES[chrom]
        starts, ends = starts[keep], ends[keep]
        values = (rng.integers(-400, 400, len(starts)) / 4).astype(np.float32)
        values[rng.random(len(starts)) < 0.01] = np.nan
        for s, e, v in zip(starts, ends, values):
            lines.append(f"{chrom}\t{s}\t{e}\t{'nan' if np.isnan(v) else repr(float(v))}")
        lines.append("")
        ok = ~np.isnan(values)
        expected[chrom] = (starts[ok], ends[ok], values[ok])
    return "\n".join(lines) + "\n", expected


@pytest.mark.parametrize("batch_bytes", [bedgraph.BATCH_BYTES, 4096])
def test_convert_reads_back_equal_to_the_bedgraph(tmp_path: Path, monkeypatch, batch_bytes: int) -> None:
    monkeypatch.setattr(bedgraph, "BATCH_BYTES", batch_bytes)  # small: many batches
    text, expected = generated_bedgraph()
    src = tmp_path / "in.bedGraph"
    src.write_text(text)
    out = tmp_path / "out.bw"
    code, printed = run("convert", src, out, "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    assert code == 0, printed
    assert "intervals read, on 2 chromosomes" in printed
    assert_reads_back(out, SIZES, expected)
    assert run("validate", out)[0] == 0


def test_convert_says_how_many_nan_items_it_skipped(tmp_path: Path) -> None:
    text, expected = generated_bedgraph()
    nans = text.count("\tnan\n")
    kept = sum(len(starts) for starts, _, _ in expected.values())
    assert nans > 1  # the generated bedGraph has some
    src = tmp_path / "in.bedGraph"
    src.write_text(text)
    result = bedgraph.convert_bedgraph(src, tmp_path / "a.bw", write_sizes(tmp_path))
    assert (result.nan_skipped, result.intervals) == (nans, kept + nans)
    code, printed = run("convert", src, tmp_path / "b.bw", "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    assert code == 0
    assert (
        f"{kept + nans:,} intervals read, on 2 chromosomes, {nans} NaN items skipped (--keep-nan stores them)"
        in printed
    )
    result = bedgraph.convert_bedgraph(src, tmp_path / "c.bw", write_sizes(tmp_path), keep_nan=True)
    assert result.nan_skipped == 0  # stored, not skipped
    assert (
        "skipped" not in run("convert", src, tmp_path / "d.bw", "--chrom-sizes", write_sizes(tmp_path), "--keep-nan")[1]
    )


def test_convert_counts_one_interval_in_the_singular(tmp_path: Path) -> None:
    src = tmp_path / "in.bedGraph"
    src.write_text("chr1\t0\t10\t1\nchr1\t10\t20\tnan\n")
    code, printed = run("convert", src, tmp_path / "o.bw", "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    assert code == 0
    assert "o.bw: 2 intervals read, on 1 chromosome, 1 NaN item skipped (--keep-nan stores them), " in printed
    src.write_text("chr1\t0\t10\t1\n")
    assert (
        "o.bw: 1 interval read, on 1 chromosome, "
        in run("convert", src, tmp_path / "o.bw", "--chrom-sizes", write_sizes(tmp_path))[1]
    )


def test_convert_gzip_input_with_progress_bar(tmp_path: Path, capsys) -> None:
    text, expected = generated_bedgraph(1)
    src = tmp_path / "in.bedGraph.gz"
    with gzip.open(src, "wt") as f:
        f.write(text)
    out = tmp_path / "out.bw"
    code, _ = run("convert", src, out, "--chrom-sizes", write_sizes(tmp_path), "--progress")
    assert code == 0
    err = capsys.readouterr().err
    assert "convert: 100%" in err
    size = tqdm.tqdm.format_sizeof(src.stat().st_size)  # as tqdm scales it: "31.2k"
    assert f"| {size}B/{size}B [" in err, err  # bytes, with their unit after each count
    assert_reads_back(out, SIZES, expected)


GOOD = "chr1\t0\t10\t1\nchr1\t10\t20\t2\n"


@pytest.mark.parametrize(
    ("bad", "line", "message"),
    [
        ("chr1\t20\t30\n", 3, "expected 4 fields"),
        ("chr1\t20\t30\t1\textra\n", 3, "expected 4 fields"),
        ("chr1\tx\t30\t1\n", 3, "start and end must be whole numbers"),
        ("chr1\t20\t30\tabc\n", 3, "value 'abc' is not a number"),
        ("chrZ\t20\t30\t1\n", 3, "chromosome chrZ is not in the chromosome sizes"),
        ("chr1\t20\t50001\t1\n", 3, "end is past the chromosome's end: chr1 20 50001 \\(size 50000\\)"),
        ("chr1\t15\t30\t1\n", 3, "starts before the previous interval ends"),
        ("chr1\t5\t8\t1\n", 3, "starts before the previous interval ends"),
        ("chr1\t30\t30\t1\n", 3, "end is not after start"),
        ("chr2\t0\t5\t1\nchr1\t40\t50\t1\n", 4, "chromosome chr1 appears again after other chromosomes"),
        # Past int64: pandas raised OverflowError, which left the CLI as a traceback.
        ("chr1\t20\t99999999999999999999999\t1\n", 3, "start and end must fit in a 64-bit integer"),
        ("chr1\t-99999999999999999999999\t30\t1\n", 3, "start and end must fit in a 64-bit integer"),
    ],
)
def test_bad_line_is_reported_with_its_number(tmp_path: Path, capsys, bad: str, line: int, message: str) -> None:
    src = tmp_path / "bad.bedGraph"
    src.write_text(GOOD + bad + "chr2\t100\t200\t1\n")
    out = tmp_path / "out.bw"
    code, _ = run("convert", src, out, "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    assert code == 1
    err = capsys.readouterr().err
    assert f"bad.bedGraph, line {line}: " in err
    assert re.search(message, err), err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bedGraph", "genome.sizes"]


def test_bad_line_in_a_later_batch_keeps_its_line_number(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(bedgraph, "BATCH_BYTES", 64)
    src = tmp_path / "bad.bedGraph"
    body = "".join(f"chr1\t{10 * i}\t{10 * i + 5}\t{i}\n" for i in range(100))
    src.write_text("# header\n" + body + "chr1\t3\t4\t1\n")
    code, _ = run("convert", src, tmp_path / "out.bw", "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    assert code == 1
    assert "bad.bedGraph, line 102: starts before the previous interval ends" in capsys.readouterr().err


def lines_in_whole(compressed: bytes) -> int:
    """Complete lines in what zlib can decompress of a gzip stream cut short (the oracle)."""
    return zlib.decompressobj(wbits=31).decompress(compressed).count(b"\n")


@pytest.mark.parametrize("damage", ["truncated", "trailing garbage"])
def test_a_damaged_gzip_names_the_file_and_the_last_line_read(tmp_path: Path, monkeypatch, capsys, damage) -> None:
    """A .gz cut short (EOFError) or followed by bytes that are not gzip (BadGzipFile) left the
    CLI as a traceback; it is one line naming the file and the last line read whole, status 1,
    and no output file. Small batches: lines before the damage were converted already."""
    monkeypatch.setattr(bedgraph, "BATCH_BYTES", 4096)
    text = "".join(f"chr1\t{10 * i}\t{10 * i + 5}\t{i % 7}\n" for i in range(3000)).encode()
    whole = gzip.compress(text)
    data = whole[: len(whole) // 2] if damage == "truncated" else whole + b"garbage"
    complete = lines_in_whole(whole[: len(whole) // 2]) if damage == "truncated" else 3000
    assert 0 < complete <= 3000
    src = tmp_path / "in.bedGraph.gz"
    src.write_bytes(data)
    code, _ = run("convert", src, tmp_path / "out.bw", "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    err = capsys.readouterr().err
    assert code == 1
    assert f"in.bedGraph.gz, line {complete + 1}: the gzip data is cut short or damaged here" in err
    assert err.endswith(f"the last line read whole is line {complete}\n") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genome.sizes", "in.bedGraph.gz"]


def test_corrupt_gzip_data_is_one_line_too(tmp_path: Path, capsys) -> None:
    """Damaged compressed data raises zlib.error, which is not an OSError: it left as a traceback."""
    data = bytearray(gzip.compress("".join(f"chr1\t{10 * i}\t{10 * i + 5}\t1\n" for i in range(2000)).encode()))
    data[100] ^= 0xFF
    src = tmp_path / "in.bedGraph.gz"
    src.write_bytes(bytes(data))
    code, _ = run("convert", src, tmp_path / "out.bw", "--chrom-sizes", write_sizes(tmp_path), "--no-progress")
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert re.search(r"in\.bedGraph\.gz, line \d+: the gzip data is cut short or damaged here \(Error -3", err), err


def test_convert_leaves_an_existing_output_alone_on_error(tmp_path: Path) -> None:
    src = tmp_path / "bad.bedGraph"
    src.write_text(GOOD + "chr1\t5\t8\t1\n")
    out = tmp_path / "out.bw"
    out.write_bytes(b"keep me")
    assert run("convert", src, out, "--chrom-sizes", write_sizes(tmp_path), "--no-progress")[0] == 1
    assert out.read_bytes() == b"keep me"


def test_convert_argument_errors(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.bedGraph"
    src.write_text(GOOD)
    assert run("convert", src, tmp_path / "o.bw")[0] == 2  # --chrom-sizes is required
    assert (
        run("convert", tmp_path / "missing.bedGraph", tmp_path / "o.bw", "--chrom-sizes", write_sizes(tmp_path))[0] == 1
    )
    sizes = tmp_path / "bad.sizes"
    sizes.write_text("chr1\tlong\n")
    assert run("convert", src, tmp_path / "o.bw", "--chrom-sizes", sizes)[0] == 1
    assert "bad.sizes, line 1: expected 'name size'" in capsys.readouterr().err


def test_python_dash_m_convert(tmp_path: Path) -> None:
    src = tmp_path / "in.bedGraph"
    src.write_text(GOOD)
    out = tmp_path / "o.bw"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "bigwig_loader",
            "convert",
            str(src),
            str(out),
            "--chrom-sizes",
            str(write_sizes(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert_reads_back(out, SIZES, {"chr1": (np.array([0, 10]), np.array([10, 20]), np.array([1, 2], np.float32))})


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"chr1\t50000\nchr2\t99999999999999999999999\n",
            r"bad.sizes, line 2: chromosome chr2 has size 9+; sizes must be in",
        ),
        (b"chr1\t50000\nchr2\t4294967296\n", r"bad.sizes, line 2: chromosome chr2 has size 4294967296"),
        (b"chr1\t50000\n\xffchr2\t300\n", r"bad.sizes, line 2: not UTF-8 text \(byte 1 of the line\)"),
        (b"chr1\t0\n", r"bad.sizes, line 1: chromosome chr1 has size 0"),
    ],
)
def test_a_bad_chrom_sizes_file_is_one_line_naming_its_line(tmp_path: Path, capsys, content, message) -> None:
    """A size past int64 gave pybind's signature dump, invalid UTF-8 a decode error naming no file."""
    src = tmp_path / "in.bedGraph"
    src.write_text(GOOD)
    sizes = tmp_path / "bad.sizes"
    sizes.write_bytes(content)
    assert run("convert", src, tmp_path / "o.bw", "--chrom-sizes", sizes, "--no-progress")[0] == 1
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1, err
