"""The ``bigwig-loader`` command line (also ``python -m bigwig_loader``):

    bigwig-loader info FILE_OR_DIR...       what is in a file
    bigwig-loader validate FILE_OR_DIR...   is every block intact
    bigwig-loader bench FILE_OR_DIR...      how fast this library loads them here
    bigwig-loader convert IN.bedGraph OUT.bw --chrom-sizes SIZES   write a bigWig
    bigwig-loader demo                      train a model on data it makes itself

Exit status: 0 on success; 1 when a file is missing, not a bigWig, or (validate) damaged;
2 for bad arguments. A reader that stops early (``bigwig-loader info ... | head``) is not an
error: the command ends quietly, with status 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import numpy as np

import bigwig_loader
from bigwig_loader import survey, throughput

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CHROMS_SHOWN = 30


class UsageError(Exception):
    """A bad argument found after parsing (exit status 2)."""


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} kB" if n >= 1e3 else f"{n:,.0f} B"


def _plural(n: int, word: str) -> str:
    """'1 thread', '2 threads', '1,024 items'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# A bar counting bytes: the unit after each count ("3.2MB/14.4MB"), where tqdm's default
# shows it only in the rate and reads as a bare "3.2M/14.4M".
_BYTES_BAR = "{l_bar}{bar}| {n_fmt}{unit}/{total_fmt}{unit} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


def _progress(enabled: bool | None, **kwargs: Any):
    """A tqdm bar on stderr, shown when asked or, by default, only when stderr is a terminal."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(disable=not show, file=sys.stderr, **kwargs)


# --- info ----------------------------------------------------------------------------------


def _print_facts(f: dict[str, Any], out: TextIO, show_blocks: bool) -> None:
    w = out.write
    w(f"{f['path']}\n")
    w(
        f"  file: {_mb(f['file_bytes'])}; bigWig version {f['version']}; "
        + (
            f"zlib-compressed blocks (uncompressBufSize {f['uncompress_buf_size']:,})\n"
            if f["compressed"]
            else "uncompressed blocks\n"
        )
    )
    chroms = f["chromosomes"]
    w(f"  chromosomes: {len(chroms)}, {sum(chroms.values()):,} bp\n")
    for name, size in list(chroms.items())[:CHROMS_SHOWN]:
        w(f"    {name:<24} {size:>13,}\n")
    if len(chroms) > CHROMS_SHOWN:
        w(f"    ... {len(chroms) - CHROMS_SHOWN} more (--json lists all)\n")
    d = f["data"]
    w(
        f"  data blocks: {d['blocks']:,}, {_mb(d['stored_bytes'])} stored, {_mb(d['inflated_bytes'])} inflated, "
        f"{d['items']:,} items\n"
    )
    for label, key in (
        ("items per block", "items_per_block"),
        ("stored bytes per block", "stored_bytes_per_block"),
        ("inflated bytes per block", "inflated_bytes_per_block"),
    ):
        s = d[key]
        w(f"    {label:<25} min {s['min']:,}  median {s['median']:,.0f}  max {s['max']:,}\n")
    kinds = [f"{k} {v['sections']:,} ({v['items']:,} items)" for k, v in f["sections"].items() if v["sections"]]
    w(f"  sections: {', '.join(kinds) if kinds else 'none'}\n")
    w(f"  zoom levels: {len(f['zoom_levels'])}\n")
    if f["zoom_levels"]:
        w(f"    {'reduction':>10} {'blocks':>8} {'records':>10} {'stored':>12} {'inflated':>12}\n")
        for z in f["zoom_levels"]:
            w(
                f"    {z['reduction_level']:>10,} {z['blocks']:>8,} {z['records']:>10,} {_mb(z['stored_bytes']):>12} "
                f"{_mb(z['inflated_bytes']):>12}\n"
            )
    if show_blocks:
        w(f"    {'offset':>12} {'stored':>8} {'inflated':>9} {'sections':>8} {'items':>6}\n")
        for b in f["blocks"]:
            w(
                f"    {b['offset']:>12} {b['stored_bytes']:>8} {b['inflated_bytes']:>9} {b['sections']:>8} "
                f"{b['items']:>6}{'' if b['intact'] else '  DAMAGED'}\n"
            )
    _print_summary(f["total_summary"], w)
    _print_problems(f["problems"], w)


def _print_summary(summary: dict[str, Any] | None, w: Callable[[str], Any]) -> None:
    """The header's total summary. Its coverage is printed as the file gives it, even above
    100% (some writers count wrongly), with a word saying so."""
    if summary is None:
        w("  summary: none in the header (version 1 files have none)\n")
        return
    covered, coverage, mean = summary["bases_covered"], summary["coverage"], summary["mean"]
    share = "" if coverage is None else f" ({100 * coverage:,.1f}% of the chromosomes)"
    if coverage is not None and coverage > 1:
        share = f" ({100 * coverage:,.1f}% of the chromosomes: the header's summary does not fit them)"
    w(
        f"  summary: {_plural(covered, 'base')} covered{share}; min {summary['min']:.6g}, "
        f"max {summary['max']:.6g}, mean {'-' if mean is None else f'{mean:.6g}'}\n"
    )


def _print_problems(problems: list[dict[str, Any]], w: Callable[[str], Any]) -> None:
    """Each problem on its own line, worded as validate words it (without the file's name)."""
    w(f"  problems: {len(problems) or 'none'}\n")
    for p in problems:
        where = "" if p["offset"] is None else f"at byte {p['offset']}: "
        w(f"    {where}{p['message']}\n")


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    facts = [survey.file_facts(path, blocks=args.blocks) for path in survey.expand_paths(args.files)]
    if args.json:
        json.dump(facts, out, indent=2)
        out.write("\n")
    else:
        for f in facts:
            _print_facts(f, out, args.blocks)
    return EXIT_OK


# --- validate ------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    paths = survey.expand_paths(args.paths)
    damaged = 0
    with _progress(args.progress, total=len(paths), unit="file", desc="validate") as bar:
        results = survey.validate(paths, threads=args.threads, on_file_done=lambda *_: bar.update())
        for path, problems in results:
            damaged += bool(problems)
            for problem in problems:
                out.write(f"{problem}\n")
    out.write(
        f"{len(paths)} file{'s' if len(paths) != 1 else ''} checked: {len(paths) - damaged} intact, "
        f"{damaged} with problems\n"
    )
    return EXIT_FAILED if damaged else EXIT_OK


# --- bench ---------------------------------------------------------------------------------


def cmd_bench(args: argparse.Namespace, out: TextIO) -> int:
    if args.window_size > args.length:
        raise UsageError(f"--window-size {args.window_size} is larger than --length {args.length}")
    if args.plot:
        throughput.require_matplotlib()
    collection = bigwig_loader.BigWigCollection(
        survey.expand_paths(args.paths), n_threads=args.threads, cache_bytes=args.cache_bytes
    )
    regions, where = _bench_regions(args, collection)
    run = _bench_runner(args, collection, regions)
    with _progress(args.progress, total=args.batches, unit="batch", desc="bench") as bar:
        m = run(args.batch_size, bar)
    result = {
        "files": len(collection),
        "device": args.device,
        "threads": collection.n_threads,
        "batch_size": args.batch_size,
        "length": args.length,
        "window_size": args.window_size,
        "batches_timed": m.batches,
        "median_batch_seconds": m.median_seconds,
        "windows_per_second": m.windows_per_second,
        "megabytes_per_second": m.megabytes_per_second(args.window_size),
        "cache": collection.cache_info()._asdict(),
    }
    if args.plot:
        result.update(_bench_sweep(args, collection, run))
    if args.json:
        json.dump(result, out, indent=2)
        out.write("\n")
    else:
        _print_bench(args, collection, m, result, where, out)
    return EXIT_OK


def _bench_regions(args: argparse.Namespace, collection: Any) -> tuple[Any, str]:
    """Where bench draws its window centres, and how the report says it."""
    if args.regions:
        regions = throughput.Regions.from_bed(args.regions, collection.chromosomes)
        return regions, f"regions of {args.regions} ({len(regions.chroms):,})"
    return throughput.Regions.whole_chromosomes(collection.chrom_sizes), "every chromosome (choose with --regions BED)"


def _bench_runner(args: argparse.Namespace, collection: Any, regions: Any) -> Callable[[int, Any], Any]:
    """run(batch_size, bar): one timed measurement at that batch size, windows drawn from one
    seeded stream shared by every run of the command."""
    load = throughput.batch_loader(collection, window_size=args.window_size, device=args.device)
    rng = np.random.default_rng(args.seed)

    def run(batch_size: int, bar: Any) -> throughput.Measurement:
        return throughput.measure(
            load,
            regions,
            batch_size=batch_size,
            length=args.length,
            tracks=len(collection),
            batches=args.batches,
            max_seconds=args.seconds,
            rng=rng,
            on_batch=bar.update,
        )

    return run


def _bench_sweep(args: argparse.Namespace, collection: Any, run: Callable[[int, Any], Any]) -> dict[str, Any]:
    """--plot: windows/s at every batch size of the sweep up to --max-sweep, drawn to args.plot."""
    sizes = [b for b in throughput.DEFAULT_SWEEP if b <= args.max_sweep]
    points = []
    with _progress(args.progress, total=len(sizes), unit="point", desc="sweep") as bar:
        for b in sizes:
            with _progress(False) as quiet:
                points.append((b, run(b, quiet).windows_per_second))
            bar.update()
    throughput.plot_sweep(
        {f"bigwig-loader ({args.device})": points},
        args.plot,
        f"{len(collection)} tracks, {args.length:,} bp windows",
    )
    return {"sweep": [{"batch_size": b, "windows_per_second": w} for b, w in points], "plot": str(args.plot)}


def _print_bench(
    args: argparse.Namespace, collection: Any, m: Any, result: dict[str, Any], where: str, out: TextIO
) -> None:
    """bench's text report."""
    out.write(
        f"files: {len(collection)} ({_plural(collection.n_threads, 'thread')}, device {args.device}, "
        f"bigwig-loader {bigwig_loader.__version__}, inflate {bigwig_loader.inflate_backend})\n"
    )
    out.write(
        f"windows: {args.batch_size:,} a batch of {args.length:,} bp (window size {args.window_size}), "
        f"centres uniform over {where}\n"
    )
    out.write(f"batches timed: {m.batches} after 1 warm-up; median {m.median_seconds * 1e3:,.2f} ms a batch\n")
    out.write(f"windows/s: {m.windows_per_second:,.0f}\n")
    out.write(f"MB/s: {result['megabytes_per_second']:,.1f} (float32 values delivered)\n")
    cache = collection.cache_info()
    out.write(
        f"block cache: {_mb(cache.max_bytes)} bound, {cache.hits:,} hits, {cache.misses:,} misses, "
        f"{_mb(cache.bytes)} held\n"
        if cache.max_bytes
        else "block cache: off\n"
    )
    if args.plot:
        out.write(
            "sweep (batch size: windows/s): "
            + ", ".join(f"{p['batch_size']}: {p['windows_per_second']:,.0f}" for p in result["sweep"])
            + "\n"
        )
        out.write(f"plot: {args.plot}\n")


# --- parsing -------------------------------------------------------------------------------


# --- convert -------------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace, out: TextIO) -> int:
    from bigwig_loader.bedgraph import convert_bedgraph

    with _progress(
        args.progress,
        total=os.path.getsize(args.bedgraph),
        unit="B",
        unit_scale=True,
        desc="convert",
        bar_format=_BYTES_BAR,
    ) as bar:
        result = convert_bedgraph(
            args.bedgraph,
            args.bigwig,
            args.chrom_sizes,
            keep_nan=args.keep_nan,
            compression_level=args.level,
            on_progress=bar.update,
        )
    skipped = (
        f", {_plural(result.nan_skipped, 'NaN item')} skipped (--keep-nan stores them)" if result.nan_skipped else ""
    )
    out.write(
        f"{args.bigwig}: {_plural(result.intervals, 'interval')} read, on {_plural(result.chromosomes, 'chromosome')}"
        f"{skipped}, {_mb(os.path.getsize(args.bigwig))}\n"
    )
    return EXIT_OK


# --- demo ----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from bigwig_loader.demo import DEFAULT, QUICK, run_demo

    run_demo(
        QUICK if args.quick else DEFAULT,
        directory=args.dir,
        device=args.device,
        progress=args.progress,
        threads=args.threads,
        out=out,
    )
    return EXIT_OK


def _whole_number_from(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `low`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


_positive_int = _whole_number_from(1)
_non_negative_int = _whole_number_from(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _device(text: str) -> str:
    try:
        throughput.check_device(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bigwig-loader",
        description="Inspect, validate and measure bigWig files with bigwig-loader.",
        epilog="Exit status: 0 success; 1 a file missing, not a bigWig, or damaged; 2 bad arguments.",
    )
    parser.add_argument("--version", action="version", version=f"bigwig-loader {bigwig_loader.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_info(commands)
    reading = _reading_options()
    _add_validate(commands, reading)
    _add_bench(commands, reading)
    _add_convert(commands)
    _add_demo(commands)
    return parser


def _add_progress_flags(parser: argparse.ArgumentParser, shown: str = "a progress bar", it: str = "one") -> None:
    """--progress / --no-progress (default: a bar only when stderr is a terminal)."""
    parser.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help=f"always show {shown} (default: only when stderr is a terminal)",
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help=f"never show {it}")


def _reading_options() -> argparse.ArgumentParser:
    """The options of the commands that read every block: progress and threads."""
    reading = argparse.ArgumentParser(add_help=False)
    _add_progress_flags(reading)
    reading.add_argument(
        "--threads", type=_positive_int, default=None, help="CPU threads (default: the CPUs this process may use)"
    )
    return reading


def _add_info(commands: Any) -> None:
    """The info command."""
    info = commands.add_parser(
        "info",
        help="what is in a bigWig file",
        description="Header, chromosomes, summary, zoom levels, sections, data blocks and "
        "problems of each file (every block is read to count them; directories are searched "
        "for .bw/.bigWig files).",
    )
    info.add_argument("files", nargs="+", metavar="FILE_OR_DIR")
    info.add_argument("--json", action="store_true", help="one JSON list, an object per file")
    info.add_argument("--blocks", action="store_true", help="also list every data block")
    info.set_defaults(run=cmd_info)


def _add_validate(commands: Any, reading: argparse.ArgumentParser) -> None:
    """The validate command."""
    validate = commands.add_parser(
        "validate",
        parents=[reading],
        help="read every block; report each problem",
        description="Reads, inflates and decodes every data and zoom block of every "
        "file (directories are searched for .bw/.bigWig files) and reports "
        "each problem with its file and byte offset. Exit status 0 only "
        "when every file is intact.",
    )
    validate.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    validate.set_defaults(run=cmd_validate)


def _add_bench(commands: Any, reading: argparse.ArgumentParser) -> None:
    """The bench command."""
    bench = commands.add_parser(
        "bench",
        parents=[reading],
        help="windows/s of this library on your files",
        description="Times BigWigCollection.get_batch on random windows of the given "
        "files (every file a track) after one warm-up batch, and prints "
        "windows/s and MB/s.",
    )
    bench.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    bench.add_argument("--regions", metavar="BED", help="draw window centres from these regions")
    bench.add_argument("--batch-size", type=_positive_int, default=256, help="windows a batch (default 256)")
    bench.add_argument("--length", type=_positive_int, default=1000, help="bases a window (default 1000)")
    bench.add_argument(
        "--window-size", type=_positive_int, default=1, help="bases averaged into one output value (default 1)"
    )
    bench.add_argument("--batches", type=_positive_int, default=20, help="timed batches at most (default 20)")
    bench.add_argument("--seconds", type=_positive_float, default=5.0, help="stop timing after this long (default 5)")
    bench.add_argument("--device", type=_device, default="cpu", help="cpu (default), cuda or cuda:N")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--plot", metavar="PNG", help="also sweep batch sizes 1..4096 and draw windows/s against them")
    bench.add_argument("--max-sweep", type=_positive_int, default=4096, help="largest batch size of the sweep")
    bench.add_argument(
        "--cache-bytes",
        type=_non_negative_int,
        default=None,
        help="bound of the cache of decoded blocks (default: the library's; 0: off)",
    )
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    bench.set_defaults(run=cmd_bench, parser=bench)


def _add_convert(commands: Any) -> None:
    """The convert command."""
    convert = commands.add_parser(
        "convert",
        help="write a bigWig from a bedGraph (bedGraphToBigWig)",
        description="Writes OUT.bw from a bedGraph (chrom start end value; sorted, "
        "not overlapping; .gz read through gzip) as UCSC's bedGraphToBigWig "
        "does. A bad line is reported with its line number (exit status 1) "
        "and no output is created.",
    )
    convert.add_argument("bedgraph", metavar="IN.bedGraph")
    convert.add_argument("bigwig", metavar="OUT.bw")
    convert.add_argument(
        "--chrom-sizes", required=True, metavar="SIZES", help="chrom.sizes file: name and size per line"
    )
    convert.add_argument("--keep-nan", action="store_true", help="store NaN values (default: skip them)")
    convert.add_argument("--level", type=_positive_int, default=6, help="compression level 1-12 (default 6)")
    _add_progress_flags(convert)
    convert.set_defaults(run=cmd_convert, parser=convert)


def _add_demo(commands: Any) -> None:
    """The demo command."""
    demo = commands.add_parser(
        "demo",
        help="train a model on data it makes itself",
        description="Writes a synthetic genome with planted motifs and tracks that respond "
        "to them (once, into a cache folder), trains a small convolutional "
        "model on them with PytorchBigWigDataset, scores it on a held-out "
        "chromosome, and writes its predictions as bigWig and a plot. Needs "
        "PyTorch and matplotlib.",
    )
    demo.add_argument(
        "--dir",
        metavar="DIR",
        help="the demo's folder (default: bigwig_loader.config.demo_dir, "
        "~/.cache/bigwig-loader/demo; or BIGWIG_LOADER_DEMO_DIR)",
    )
    demo.add_argument(
        "--device",
        type=_device,
        default=None,
        help="cpu, cuda or cuda:N (default: cuda when a GPU is available, else cpu)",
    )
    demo.add_argument("--quick", action="store_true", help="a smaller genome and fewer steps (seconds, not a minute)")
    demo.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="torch's CPU threads (default: all but one of the CPUs this process may use)",
    )
    _add_progress_flags(demo, "the training bar", "it")
    demo.set_defaults(run=cmd_demo, parser=demo)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Runs the command line on `argv` (default: sys.argv[1:]) and returns the exit status."""
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or an argparse error (already printed)
        return int(e.code or 0)
    try:
        return args.run(args, out)
    except BrokenPipeError:  # before OSError: the reader of our output left, which is no error
        _reader_gone()
        return EXIT_OK
    except UsageError as e:
        args.parser.print_usage(sys.stderr)
        print(f"bigwig-loader {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (
        FileNotFoundError,
        bigwig_loader.BigWigError,
        ValueError,
        KeyError,
        ImportError,
        OSError,
        RuntimeError,
    ) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"bigwig-loader {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILED


def _reader_gone() -> None:
    """Points stdout at /dev/null, so that the interpreter's final flush of what is still
    buffered does not fail on the closed pipe a second time (and print an error)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def console_main() -> None:
    """The ``bigwig-loader`` console script."""
    status = main()
    try:
        sys.stdout.flush()  # here, not at exit, so that a reader gone is handled like one in main
    except BrokenPipeError:
        _reader_gone()  # the status stays the command's own
    sys.exit(status)


if __name__ == "__main__":
    console_main()
