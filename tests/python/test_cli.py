"""The command line, run in-process through cli.main(argv, out) (and once as
`python -m bigwig_loader`): info against pyBigWig, validate on intact and damaged files,
a tiny bench, and the errors and exit statuses."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyBigWig
import pytest

import bigwig_loader
from bigwig_loader import _core, cli
from conftest import copy_with_corrupt_data, real_bigwigs, real_file

ENCODE = "bbi-js/ENCFF826FLP.bw"


def run(*argv: object) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([str(a) for a in argv], out=out)
    return code, out.getvalue()


# --- info ----------------------------------------------------------------------------------


def test_info_json_agrees_with_pybigwig_for_every_real_file() -> None:
    files = real_bigwigs()
    code, text = run("info", "--json", *files)
    assert code == 0
    facts = json.loads(text)
    assert [f["path"] for f in facts] == [str(p) for p in files]
    for f, path in zip(facts, files):
        bw = pyBigWig.open(str(path))
        assert f["chromosomes"] == bw.chroms()
        assert f["version"] == bw.header()["version"]
        assert len(f["zoom_levels"]) == bw.header()["nLevels"]
        assert f["data"]["items"] == sum(len(bw.intervals(c) or ()) for c in bw.chroms())
        bw.close()
        assert f["problems"] == []
        assert f["file_bytes"] == path.stat().st_size


def test_info_text_of_the_encode_track() -> None:
    path = real_file(ENCODE)
    code, text = run("info", path)
    assert code == 0
    bw = pyBigWig.open(str(path))
    assert f"bigWig version {bw.header()['version']}" in text
    assert re.search(rf"^\s+chr22\s+{bw.chroms('chr22'):,}$", text, re.M)
    assert f"zoom levels: {bw.header()['nLevels']}" in text
    n_items = len(bw.intervals("chr22"))
    bw.close()
    blocks = len(_core.survey_bigwig(str(path))["blocks"]["offset"])
    assert f"data blocks: {blocks:,}," in text and f"{n_items:,} items" in text
    assert f"sections: bedGraph {blocks:,} ({n_items:,} items)" in text
    assert "zlib-compressed" in text and "problems: none" in text


def test_info_blocks_lists_every_block() -> None:
    code, text = run("info", "--json", "--blocks", real_file("bbi-js/uncompressed.bw"))
    assert code == 0
    (f,) = json.loads(text)
    assert not f["compressed"]
    assert len(f["blocks"]) == f["data"]["blocks"]
    assert sum(b["stored_bytes"] for b in f["blocks"]) == f["data"]["stored_bytes"]
    assert all(b["stored_bytes"] == b["inflated_bytes"] for b in f["blocks"])
    code, text = run("info", "--blocks", real_file("bbi-js/uncompressed.bw"))
    assert code == 0
    assert str(f["blocks"][-1]["offset"]) in text


def test_info_lists_every_problem_with_its_byte_offset(tmp_path: Path) -> None:
    corrupt = copy_with_corrupt_data(tmp_path)
    problems = _core.survey_bigwig(str(corrupt))["problems"]
    code, text = run("info", corrupt)
    assert code == 0  # info describes; validate is the command whose status judges
    assert f"problems: {len(problems)}\n" in text
    for p in problems:
        assert f"    at byte {p['offset']}: {p['message']}\n" in text


def test_info_takes_a_directory_as_validate_does(tmp_path: Path) -> None:
    shutil.copy(real_file(ENCODE), tmp_path / "a.bw")
    (tmp_path / "sub").mkdir()
    shutil.copy(real_file("bbi-js/volvox.bw"), tmp_path / "sub" / "b.bigWig")
    (tmp_path / "readme.txt").write_text("not a bigWig name: not searched")
    code, text = run("info", "--json", tmp_path)
    assert code == 0
    assert [f["path"] for f in json.loads(text)] == [str(tmp_path / "a.bw"), str(tmp_path / "sub" / "b.bigWig")]


def test_info_text_shows_the_summary_the_json_has() -> None:
    path = real_file("bbi-js/volvox.bw")
    (facts,) = json.loads(run("info", "--json", path)[1])
    summary = facts["total_summary"]
    bw = pyBigWig.open(str(path))
    header = bw.header()
    bw.close()
    assert summary["mean"] == pytest.approx(header["sumData"] / header["nBasesCovered"])
    assert summary["coverage"] == pytest.approx(header["nBasesCovered"] / 50_001)
    assert (summary["min"], summary["max"]) == (header["minVal"], header["maxVal"])
    text = run("info", path)[1]
    assert (
        f"summary: {header['nBasesCovered']:,} bases covered ({100 * summary['coverage']:.1f}% of the chromosomes); "
        f"min 1, max 38, mean {summary['mean']:.6g}\n"
    ) in text


def test_info_says_when_the_header_summary_cannot_be_right() -> None:
    """ENCFF826FLP.bw is chr22 cut from a genome-wide file whose header summary it kept."""
    text = run("info", real_file(ENCODE))[1]
    assert "% of the chromosomes: the header's summary does not fit them)" in text


def test_info_text_of_a_file_without_a_summary() -> None:
    out = io.StringIO()
    cli._print_summary(None, out.write)  # version 1 files have no total summary; none is at hand
    assert out.getvalue() == "  summary: none in the header (version 1 files have none)\n"


# --- validate ------------------------------------------------------------------------------


def test_validate_intact_files_exits_0_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    files = real_bigwigs()
    code, text = run("validate", *files)
    assert code == 0
    assert text.strip() == f"{len(files)} files checked: {len(files)} intact, 0 with problems"
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal


def test_validate_names_the_damaged_file_and_byte_offset(tmp_path: Path) -> None:
    corrupt = copy_with_corrupt_data(tmp_path)
    first_block = int(_core.survey_bigwig(str(corrupt))["blocks"]["offset"][0])
    code, text = run("validate", corrupt)
    assert code == 1
    assert f"{corrupt}: at byte {first_block}: corrupt data block: " in text  # the batch path's wording
    assert "1 file checked: 0 intact, 1 with problems" in text


def test_validate_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(real_file(ENCODE), tmp_path / "good.bw")
    (tmp_path / "sub").mkdir()
    corrupt = copy_with_corrupt_data(tmp_path / "sub")
    (tmp_path / "readme.txt").write_text("not searched: not a bigWig name")
    code, text = run("validate", "--progress", tmp_path)
    assert code == 1
    assert str(corrupt) in text and "good.bw" not in text
    assert "2 files checked: 1 intact, 1 with problems" in text
    assert "2/2" in capsys.readouterr().err  # the bar, when asked for
    code, text = run("validate", tmp_path / "good.bw")
    assert code == 0


def test_validate_a_named_non_bigwig_fails() -> None:
    path = real_file("clodius/not_a_bigwig_hdf5.bw")
    code, text = run("validate", path)
    assert code == 1
    assert f"{path}: at byte 0: not a bigWig file" in text


# --- bench ---------------------------------------------------------------------------------


def test_bench_json_on_a_real_file(tmp_path: Path) -> None:
    bed = tmp_path / "regions.bed"
    bed.write_text("# where the ENCODE track has data\nchr22\t17000000\t50000000\n")
    code, text = run(
        "bench",
        real_file(ENCODE),
        "--regions",
        bed,
        "--batch-size",
        8,
        "--length",
        500,
        "--window-size",
        10,
        "--batches",
        3,
        "--json",
    )
    assert code == 0
    r = json.loads(text)
    assert (r["files"], r["batch_size"], r["length"], r["window_size"], r["batches_timed"]) == (1, 8, 500, 10, 3)
    assert r["windows_per_second"] == pytest.approx(8 / r["median_batch_seconds"])
    # float32 cells delivered: 8 windows x 50 cells x 1 track x 4 bytes a batch
    assert r["megabytes_per_second"] == pytest.approx(8 * 50 * 4 / r["median_batch_seconds"] / 1e6)


@pytest.mark.parametrize(("threads", "words"), [(1, "1 thread,"), (2, "2 threads,")])
def test_bench_counts_its_threads_in_words(threads: int, words: str) -> None:
    code, text = run("bench", real_file(ENCODE), "--threads", threads, "--batch-size", 2, "--batches", 1)
    assert code == 0
    assert f"files: 1 ({words} device cpu" in text


def test_bench_text_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "sweep.png"
    code, text = run(
        "bench",
        real_file(ENCODE),
        "--batch-size",
        4,
        "--batches",
        2,
        "--plot",
        png,
        "--max-sweep",
        16,
        "--seconds",
        0.5,
    )
    assert code == 0
    windows_per_s = float(re.search(r"^windows/s: ([\d,]+)$", text, re.M).group(1).replace(",", ""))
    assert windows_per_s > 0
    assert re.search(r"^MB/s: [\d,.]+ \(float32 values delivered\)$", text, re.M)
    sweep = re.search(r"^sweep \(batch size: windows/s\): (.*)$", text, re.M).group(1)
    assert [int(p.split(":")[0]) for p in sweep.split(", ")] == [1, 4, 16]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_device(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("bench", real_file(ENCODE), "--batch-size", 2, "--batches", 1, "--device", "cuda", "--json")
    if bigwig_loader.cuda_available():
        assert code == 0 and json.loads(text)["device"] == "cuda"
    else:  # a clear error, not a CPU run labelled cuda
        assert code == 1 and text == ""
        err = capsys.readouterr().err
        assert "bigwig-loader bench: error: " in err and "cuda" in err.lower()


def test_bench_bad_regions_name_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bed = tmp_path / "bad.bed"
    bed.write_text("chr22\t100\t200\nchr22\tten\t20\n")
    assert run("bench", real_file(ENCODE), "--regions", bed)[0] == 1
    assert f"{bed}, line 2: expected 'chrom start end'" in capsys.readouterr().err
    bed.write_text("chrNope\t100\t200\n")
    assert run("bench", real_file(ENCODE), "--regions", bed)[0] == 1
    assert "'chrNope' is in none of the bigWig files" in capsys.readouterr().err


# --- errors and help -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["info", "validate", "bench"])
def test_missing_file_is_a_clear_error(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.bw"
    assert run(command, missing)[0] == 1
    assert f"bigwig-loader {command}: error: " in (err := capsys.readouterr().err) and str(missing) in err


@pytest.mark.parametrize("command", ["info", "bench"])
def test_non_bigwig_is_a_clear_error(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(command, real_file("clodius/not_a_bigwig_hdf5.bw"))[0] == 1
    assert "not a bigWig file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["info"],
        ["validate"],
        ["bench"],
        ["bench", ENCODE, "--batch-size", "0"],
        ["bench", ENCODE, "--length", "ten"],
        ["bench", ENCODE, "--device", "tpu"],
        ["bench", ENCODE, "--seconds", "-1"],
        ["validate", ".", "--threads", "0"],
    ],
)
def test_bad_arguments_exit_2_with_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "usage: bigwig-loader" in err and "error:" in err


def test_window_size_larger_than_the_window_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("bench", real_file(ENCODE), "--length", 10, "--window-size", 20)[0] == 2
    assert "--window-size 20 is larger than --length 10" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["info"], ["validate"], ["bench"]])
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*command, "--help"], out=io.StringIO()) == 0
    assert f"usage: bigwig-loader {' '.join(command)}".strip() in capsys.readouterr().out


def test_python_dash_m_runs_the_same_command_line() -> None:
    path = real_file(ENCODE)
    done = subprocess.run(
        [sys.executable, "-m", "bigwig_loader", "info", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["chromosomes"] == {"chr22": 51_304_566}
    done = subprocess.run(
        [sys.executable, "-m", "bigwig_loader", "validate", str(path.parent / "missing.bw")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "no such file or directory" in done.stderr


def buffered_stdout_env() -> dict[str, str]:
    """The environment with stdout block-buffered, as it is for most users (PYTHONUNBUFFERED
    would make every write reach the pipe at once, and no output wait for the final flush)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """`bigwig-loader info --json --blocks FILE | head -1`: head leaves after one line and the
    next write meets a closed pipe. The command ends quietly (status 0, nothing on stderr), as
    cat does; it used to print "error: [Errno 32] Broken pipe" and exit 1. The file is named 8
    times so that the output (~630 kB with the real file, ~290 kB with its stand-in) is far
    larger than a pipe holds: the write must fail."""
    path = str(real_file(ENCODE))
    writer = subprocess.Popen(
        [sys.executable, "-m", "bigwig_loader", "info", "--json", "--blocks", *[path] * 8],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=buffered_stdout_env(),
    )
    head = subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()  # head holds the only read end: when it exits, the pipe is closed
    first_line, _ = head.communicate(timeout=120)
    stderr = writer.stderr.read()
    writer.stderr.close()
    assert writer.wait(timeout=120) == 0, stderr
    assert first_line == b"[\n"
    assert stderr == b""


@pytest.mark.parametrize("blocks", [[], ["--blocks"]])
def test_output_to_a_pipe_nobody_reads_ends_quietly(blocks: list[str]) -> None:
    """The pipe's read end is closed before the command writes: a small output (~2 kB, without
    --blocks) fails only in the final flush of stdout, a large one in the middle of the command;
    both end quietly with status 0."""
    writer = subprocess.Popen(
        [sys.executable, "-m", "bigwig_loader", "info", "--json", *blocks, str(real_file(ENCODE))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=buffered_stdout_env(),
    )
    writer.stdout.close()
    _, stderr = writer.communicate(timeout=120)
    assert (writer.returncode, stderr) == (0, b"")
