"""Writing bigWig: bigwig_loader.BigWigWriter against pyBigWig's and pybigtools' writers on the
same data, time and file size.

Cases:
  dense      a whole-chromosome prediction track: one float32 per base over hg38 chr21
             (46.7 Mb), smooth peaks plus noise, so neighbours differ (a model's output).
  encode     ENCODE-like intervals over chr21 + chr22 (benchmarks/corpus.py's generator: runs of
             mean 50 bp, log-normal values, 10% gaps; about 1.7 M intervals).
  real       the intervals of the real ENCODE track ENCFF826FLP (chr22, 445 k intervals).

Each writer is used as its documentation shows: pyBigWig's addEntries with numpy arrays
(fixedStep for the dense track: span=1, step=1), pybigtools' write() fed an iterator of
(chrom, start, end, value) tuples (its only input), this library's add_values / add_intervals.
Every output is read back (pyBigWig values at 20,000 random positions) and compared with the
input before its time counts; a writer whose file differs is reported WRONG.

    .venv/bin/python benchmarks/bench_writer.py                 # all cases, best of 2
    .venv/bin/python benchmarks/bench_writer.py --quick         # 5 Mb dense, chr22 only
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

import bigwig_loader  # noqa: E402


def dense_track(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = np.zeros(size, np.float32)
    centres = rng.integers(0, size, size // 2000)
    width = 200
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2).astype(np.float32)
    impulses = np.zeros(size, np.float32)
    np.add.at(impulses, centres, rng.lognormal(1.0, 1.0, centres.size).astype(np.float32))
    signal = np.convolve(impulses, kernel, mode="same").astype(np.float32)
    signal += rng.normal(0, 0.05, size).astype(np.float32) ** 2  # a positive noise floor
    return signal


# --- writers -----------------------------------------------------------------------------------


def ours_intervals(path, sizes, data, level=6):
    with bigwig_loader.BigWigWriter(path, sizes, compression_level=level) as w:
        for chrom, (s, e, v) in data.items():
            w.add_intervals(chrom, s, e, v)


def ours_dense(path, sizes, data, fixed_step: bool, level=6):
    with bigwig_loader.BigWigWriter(path, sizes, compression_level=level) as w:
        for chrom, values in data.items():
            w.add_values(chrom, 0, values, step=1 if fixed_step else None)


def pybigwig_intervals(path, sizes, data):
    import pyBigWig

    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()), maxZooms=10)
    for chrom, (s, e, v) in data.items():
        bw.addEntries(
            np.array([chrom] * len(s)), s.astype(np.int64), ends=e.astype(np.int64), values=v.astype(np.float64)
        )
    bw.close()


def pybigwig_dense(path, sizes, data):
    import pyBigWig

    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()), maxZooms=10)
    for chrom, values in data.items():
        bw.addEntries(chrom, 0, values=values.astype(np.float64), span=1, step=1)
    bw.close()


def pybigtools_intervals(path, sizes, data):
    import pybigtools

    def items():
        for chrom, (s, e, v) in data.items():
            yield from zip([chrom] * len(s), s.tolist(), e.tolist(), v.tolist())

    pybigtools.open(str(path), "w").write(sizes, items())


def pybigtools_dense(path, sizes, data):
    import pybigtools

    def items():
        for chrom, values in data.items():
            n = len(values)
            yield from zip([chrom] * n, range(n), range(1, n + 1), values.tolist())

    pybigtools.open(str(path), "w").write(sizes, items())


# --- checking and timing -----------------------------------------------------------------------


def expected_values(data, chrom, positions):
    item = data[chrom]
    if isinstance(item, np.ndarray):
        return item[positions]
    s, e, v = item
    i = np.searchsorted(s, positions, side="right") - 1
    out = np.full(len(positions), np.nan, np.float32)
    ok = (i >= 0) & (positions < e[np.maximum(i, 0)])
    out[ok] = v[i[ok]]
    return out


def check(path, sizes, data, rng) -> bool:
    import pyBigWig

    bw = pyBigWig.open(str(path))
    try:
        for chrom in data:
            positions = np.sort(rng.integers(0, sizes[chrom], 20_000))
            got = np.array([bw.values(chrom, int(p), int(p) + 1)[0] for p in positions], np.float32)
            want = expected_values(data, chrom, positions)
            if not np.array_equal(np.isnan(got), np.isnan(want)) or not np.array_equal(
                got[~np.isnan(got)], want[~np.isnan(want)]
            ):
                return False
    finally:
        bw.close()
    return True


def run_case(name, sizes, data, writers, repeat, out_dir, report):
    rows = []
    for label, fn in writers:
        best = None
        path = out_dir / f"{name}-{label.replace(' ', '_').replace(',', '')}.bw"
        for _ in range(repeat):
            if path.exists():
                path.unlink()
            t0 = time.perf_counter()
            fn(path, sizes, data)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        ok = check(path, sizes, data, np.random.default_rng(1))
        rows.append((label, best, path.stat().st_size, ok))
        print(
            f"  {name}: {label}: {best:.2f} s, {path.stat().st_size / 1e6:.2f} MB, {'ok' if ok else 'WRONG'}",
            file=sys.stderr,
            flush=True,
        )
        path.unlink()
    base = next(r for r in rows if r[0].startswith("pybigtools"))
    report.append("| writer | seconds | x pybigtools speed | file MB | x pybigtools size |")
    report.append("|---|---:|---:|---:|---:|")
    for label, secs, size, ok in rows:
        if not ok:
            report.append(f"| {label} | WRONG | | | |")
            continue
        report.append(f"| {label} | {secs:.2f} | {base[1] / secs:.2f}x | {size / 1e6:.2f} | {size / base[2]:.2f} |")
    report.append("")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=2, help="runs per writer; the best counts (default 2)")
    ap.add_argument("--cases", default="dense,encode,real")
    args = ap.parse_args(argv)

    import pyBigWig
    import pybigtools

    report = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; bigwig-loader {bigwig_loader.__version__} "
        f"(deflate: {bigwig_loader.inflate_backend}); "
        f"pyBigWig {pyBigWig.__version__ if hasattr(pyBigWig, '__version__') else ''}"
        f"; pybigtools {pybigtools.__version__}; load average before: {os.getloadavg()[0]:.1f}",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="bench_writer_") as tmp:
        out_dir = Path(tmp)
        cases = args.cases.split(",")
        if "dense" in cases:
            size = 5_000_000 if args.quick else corpus.HG38_SIZES["chr21"]
            sizes = {"chr21": size}
            data = {"chr21": dense_track(size)}
            report.append(f"### dense: one float32 per base over {size:,} bases (chr21)")
            report.append("")
            run_case(
                "dense",
                sizes,
                data,
                [
                    ("bigwig_loader add_values, fixedStep (step=1)", lambda p, s, d: ours_dense(p, s, d, True)),
                    ("bigwig_loader add_values, bedGraph runs", lambda p, s, d: ours_dense(p, s, d, False)),
                    ("pyBigWig addEntries, fixedStep", pybigwig_dense),
                    ("pybigtools write (bedGraph)", pybigtools_dense),
                ],
                args.repeat,
                out_dir,
                report,
            )
        if "encode" in cases:
            chroms = ("chr22",) if args.quick else ("chr21", "chr22")
            spec = corpus.TrackSpec(chroms=chroms)
            rng = np.random.default_rng(0)
            sizes = {c: corpus.HG38_SIZES[c] for c in chroms}
            data = {c: corpus.track_runs(sizes[c], spec, rng) for c in chroms}
            n = sum(len(s) for s, _, _ in data.values())
            report.append(f"### encode: {n:,} ENCODE-like intervals over {' + '.join(chroms)}")
            report.append("")
            run_case(
                "encode",
                sizes,
                data,
                [
                    ("bigwig_loader add_intervals", ours_intervals),
                    ("bigwig_loader add_intervals, level 9", lambda p, s, d: ours_intervals(p, s, d, 9)),
                    ("pyBigWig addEntries", pybigwig_intervals),
                    ("pybigtools write", pybigtools_intervals),
                ],
                args.repeat,
                out_dir,
                report,
            )
        if "real" in cases and not args.quick:
            real = (
                Path(os.environ.get("BWL_REAL_DATA", corpus.REAL_ENCODE_TRACK.parents[1])) / "bbi-js" / "ENCFF826FLP.bw"
            )
            src = pyBigWig.open(str(real))
            sizes = src.chroms()
            data = {}
            for chrom in sizes:
                iv = np.array(src.intervals(chrom) or [], np.float64).reshape(-1, 3)
                data[chrom] = (iv[:, 0].astype(np.int64), iv[:, 1].astype(np.int64), iv[:, 2].astype(np.float32))
            src.close()
            n = sum(len(s) for s, _, _ in data.values())
            report.append(
                f"### real: the {n:,} intervals of ENCFF826FLP (chr22; the original file is "
                f"{real.stat().st_size / 1e6:.2f} MB)"
            )
            report.append("")
            run_case(
                "real",
                sizes,
                data,
                [
                    ("bigwig_loader add_intervals", ours_intervals),
                    ("pyBigWig addEntries", pybigwig_intervals),
                    ("pybigtools write", pybigtools_intervals),
                ],
                args.repeat,
                out_dir,
                report,
            )
    report.append(f"Load average after: {os.getloadavg()[0]:.1f}")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
