"""The CUDA backend against the CPU backend on the same machine (issue 5), side by side in one
process, on identical windows: batches of 1,024 random 1 kb windows x 64 ENCODE-like tracks
(corpus.py), one get_batch at a time and pipelined through a StreamedDataloader. The GPU's
first batch is checked bit for bit against the CPU backend's.

    .venv/bin/python benchmarks/bench_gpu.py [--tracks 64] [--batch 1024] [--batches 10]

Needs a CUDA device and torch (for stream synchronization and the device name).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

import bigwig_loader
import corpus


def windows(chrom_sizes: dict[str, int], n: int, length: int, rng: np.random.Generator):
    names = list(chrom_sizes)
    chroms = [names[i] for i in rng.integers(0, len(names), n)]
    starts = np.array([rng.integers(0, chrom_sizes[c] - length) for c in chroms], dtype=np.int64)
    return chroms, starts, starts + length


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--workers", type=int, default=4, help="StreamedDataloader workers (each its own stream)")
    args = ap.parse_args()
    if not bigwig_loader.cuda_available():
        raise SystemExit("bench_gpu: no usable CUDA device: " + bigwig_loader._core.cuda_unavailable_reason())

    paths = corpus.ensure_corpus(args.tracks)
    collection = bigwig_loader.BigWigCollection(paths)
    rng = np.random.default_rng(0)
    batches = [windows(collection.chrom_sizes, args.batch, args.length, rng) for _ in range(args.batches + 1)]

    def cpu(b):
        return collection.get_batch(*b, device="cpu")

    def gpu(b):
        values = collection.get_batch(*b, device="cuda")
        torch.from_dlpack(values)  # torch's stream waits for the batch
        torch.cuda.synchronize()
        return values

    first_cpu = torch.from_dlpack(cpu(batches[0])).view(torch.int32)
    first_gpu = torch.from_dlpack(gpu(batches[0])).cpu().view(torch.int32)
    same = torch.equal(first_cpu, first_gpu)

    times: dict[str, list[float]] = {"CPU backend get_batch": [], "CUDA backend get_batch": []}
    for b in batches[1:]:  # interleaved, batch by batch
        for name, run in (("CPU backend get_batch", cpu), ("CUDA backend get_batch", gpu)):
            t0 = time.perf_counter()
            run(b)
            times[name].append(time.perf_counter() - t0)

    def streamed(device: str) -> float:
        t0 = time.perf_counter()
        with bigwig_loader.StreamedDataloader(iter(batches[1:]), collection, num_threads=args.workers,
                                              device=device) as loader:
            for batch in loader:
                torch.from_dlpack(batch.values)
        torch.cuda.synchronize()
        return (time.perf_counter() - t0) / args.batches

    streamed_cpu = streamed("cpu")
    streamed_gpu = streamed("cuda")

    print(f"corpus: {args.tracks} tracks, {corpus.DEFAULT_CHROMS}, UCSC layout; batch: {args.batch} x {args.length} bp")
    print(f"machine: {torch.cuda.get_device_name()}, {os.cpu_count()} CPUs, {platform.machine()}, "
          f"Python {platform.python_version()}, bigwig-loader {bigwig_loader.__version__}")
    print()
    print("| contender | ms / batch | windows/s | vs CPU backend | output |")
    print("|---|---:|---:|---:|---|")
    base = statistics.median(times["CPU backend get_batch"])
    rows = [(name, statistics.median(ts)) for name, ts in times.items()]
    rows += [(f"CPU backend, StreamedDataloader x{args.workers}", streamed_cpu),
             (f"CUDA backend, StreamedDataloader x{args.workers}", streamed_gpu)]
    for name, seconds in rows:
        output = "same as CPU" if "CUDA" not in name or same else "WRONG"
        print(f"| {name} | {seconds * 1e3:,.1f} | {args.batch / seconds:,.0f} | {base / seconds:,.1f}x | {output} |")


if __name__ == "__main__":
    main()
