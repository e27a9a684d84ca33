"""The CUDA backend against the CPU backend on the same machine, side by side in one process, on
identical windows (issues 5 and 10), for two batches:

  kb        1,024 random 1 kb windows x 64 ENCODE-like tracks (corpus.py), window_size 1
  enformer  Enformer-size: 114,688 bp windows averaged into 128 bp bins (896 cells), 64 tracks

Per case: one get_batch at a time, CPU backend (all cores) and CUDA backend interleaved batch by
batch (median ms); the 1 kb case also pipelined through a StreamedDataloader. Each case's first
GPU batch is checked bit for bit against the CPU backend's. Then, in a separate pass (timing
waits on every stage, so it is never mixed with the throughput figures), the CUDA stage times
from CUDA events: read (host), copy, inflate, decode, fill, per batch.

    python benchmarks/bench_gpu.py [--case kb enformer] [--tracks 64] [--batches 10]
                                   [--chroms chr21] [--json out.json] [--dump-blocks DIR]

--dump-blocks writes the stored blocks of the corpus (blocks.bin, blocks.idx: uint64 offset,
stored, inflated per block) for benchmarks/inflate_vs_nvcomp.cu. scripts/gpu_check.sh runs
this on a GPU machine. Needs a CUDA device and torch (stream synchronization, device name).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import bigwig_loader
import corpus

CASES = {
    # name: (batch, window length, window_size)
    "kb": (1024, 1_000, 1),
    "enformer": (64, 114_688, 128),
}


def windows(chrom_sizes: dict[str, int], n: int, length: int, rng: np.random.Generator):
    names = list(chrom_sizes)
    chroms = [names[i] for i in rng.integers(0, len(names), n)]
    starts = np.array([rng.integers(0, chrom_sizes[c] - length) for c in chroms], dtype=np.int64)
    return chroms, starts, starts + length


def run_case(collection, name: str, batch: int, length: int, window_size: int, n_batches: int, workers: int) -> dict:
    rng = np.random.default_rng(0)
    batches = [windows(collection.chrom_sizes, batch, length, rng) for _ in range(n_batches + 1)]
    options = dict(window_size=window_size)

    def cpu(b):
        return collection.get_batch(*b, device="cpu", **options)

    def gpu(b):
        values = collection.get_batch(*b, device="cuda", **options)
        torch.from_dlpack(values)  # torch's stream waits for the batch
        torch.cuda.synchronize()
        return values

    first_cpu = torch.from_dlpack(cpu(batches[0])).view(torch.int32)
    first_gpu = torch.from_dlpack(gpu(batches[0])).cpu().view(torch.int32)
    same = bool(torch.equal(first_cpu, first_gpu))

    times: dict[str, list[float]] = {"CPU backend get_batch": [], "CUDA backend get_batch": []}
    for b in batches[1:]:  # interleaved, batch by batch
        for label, run in (("CPU backend get_batch", cpu), ("CUDA backend get_batch", gpu)):
            t0 = time.perf_counter()
            run(b)
            times[label].append(time.perf_counter() - t0)
    rows = {label: statistics.median(ts) for label, ts in times.items()}

    if name == "kb":

        def streamed(device: str) -> float:
            t0 = time.perf_counter()
            with bigwig_loader.StreamedDataloader(
                iter(batches[1:]), collection, num_threads=workers, device=device, window_size=window_size
            ) as loader:
                for item in loader:
                    torch.from_dlpack(item.values)
            torch.cuda.synchronize()
            return (time.perf_counter() - t0) / n_batches

        rows[f"CPU backend, StreamedDataloader x{workers}"] = streamed("cpu")
        rows[f"CUDA backend, StreamedDataloader x{workers}"] = streamed("cuda")

    # Stage times: a backend of its own with timing on (each stage waited for).
    backend = bigwig_loader._core.make_processor(0, 0)
    backend.time_stages(True)
    for b in batches[1:]:
        backend.load(collection.core_collection, collection.batch_request(*b, window_size))
    stages = backend.stage_times()
    n = max(1, stages.pop("batches"))
    stages = {k.removesuffix("_ms"): v / n for k, v in stages.items()}
    return {
        "case": name,
        "batch": batch,
        "length": length,
        "window_size": window_size,
        "same_as_cpu": same,
        "ms_per_batch": {k: v * 1e3 for k, v in rows.items()},
        "stage_ms_per_batch": stages,
    }


def dump_blocks(paths: list[Path], out_dir: Path, limit: int) -> None:
    """The stored (zlib) data blocks of `paths`, up to `limit`, for inflate_vs_nvcomp.cu."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    written = 0
    with open(out_dir / "blocks.bin", "wb") as blob:
        for path in paths:
            if len(index) >= limit:  # enough: no survey of the other tracks
                break
            survey = bigwig_loader._core.survey_bigwig(str(path))
            blocks = survey["blocks"]
            data = path.read_bytes()
            for off, stored, inflated in zip(blocks["offset"], blocks["stored_bytes"], blocks["inflated_bytes"]):
                if len(index) >= limit:
                    break
                blob.write(data[int(off) : int(off) + int(stored)])
                index.append((written, int(stored), int(inflated)))
                written += int(stored)
    np.array(index, dtype="<u8").tofile(out_dir / "blocks.idx")
    print(f"dump-blocks: {len(index)} blocks, {written / 1e6:.1f} MB stored -> {out_dir}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", nargs="+", choices=sorted(CASES), default=["kb", "enformer"])
    ap.add_argument("--tracks", type=int, default=64)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--chroms", nargs="+", default=list(corpus.DEFAULT_CHROMS), help="corpus chromosomes (hg38 sizes)")
    ap.add_argument("--workers", type=int, default=4, help="StreamedDataloader workers (each its own stream)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--dump-blocks", type=Path, help="write the corpus's stored blocks here (for inflate_vs_nvcomp)")
    ap.add_argument("--dump-limit", type=int, default=50_000)
    args = ap.parse_args()
    if not bigwig_loader.cuda_available():
        raise SystemExit("bench_gpu: no usable CUDA device: " + bigwig_loader._core.cuda_unavailable_reason())

    spec = corpus.TrackSpec(chroms=tuple(args.chroms))
    paths = corpus.ensure_corpus(args.tracks, spec)
    collection = bigwig_loader.BigWigCollection(paths)
    machine = (
        f"{torch.cuda.get_device_name()}, {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, bigwig-loader {bigwig_loader.__version__}, "
        f"inflate {bigwig_loader.inflate_backend}"
    )
    print(f"corpus: {args.tracks} tracks, {spec.chroms}, UCSC layout; machine: {machine}")
    if args.dump_blocks:  # first: the nvCOMP comparison needs the blocks even if a case runs long
        dump_blocks(paths, args.dump_blocks, args.dump_limit)
    # Each case's table (and the JSON so far) as soon as it is measured: a run stopped at its
    # time limit keeps what it finished.
    results = []
    for c in args.case:
        r = run_case(collection, c, *CASES[c], args.batches, args.workers)
        results.append(r)
        print_case(r, args.tracks)
        if args.json:
            args.json.write_text(json.dumps({"machine": machine, "tracks": args.tracks, "results": results}, indent=1))


def print_case(r: dict, tracks: int) -> None:
    print()
    print(
        f"### {r['case']}: batch {r['batch']} x {r['length']:,} bp, window_size {r['window_size']}, "
        f"{tracks} tracks; first GPU batch {'same as CPU' if r['same_as_cpu'] else 'WRONG'}"
    )
    print("| contender | ms / batch | windows/s | vs CPU backend |")
    print("|---|---:|---:|---:|")
    base = r["ms_per_batch"]["CPU backend get_batch"]
    for label, ms in r["ms_per_batch"].items():
        print(f"| {label} | {ms:,.1f} | {r['batch'] / ms * 1e3:,.0f} | {base / ms:,.1f}x |")
    stages = r["stage_ms_per_batch"]
    total = sum(stages.values())
    shares = ", ".join(f"{k} {v:,.2f} ({v / total:.0%})" for k, v in stages.items())
    print(f"CUDA stage ms / batch (timed pass): {shares}; bottleneck: {max(stages, key=stages.get)}", flush=True)


if __name__ == "__main__":
    main()
