"""The ChromBPNet-shaped case: epochs over the same peaks, with the block cache on and off.

30,000 peak summits over the corpus chromosomes; 2,114 bp input windows with the 1,000 bp
centre as target; jitter 500; batch 64; five epochs through PytorchBigWigDataset (one-hot
sequence + every track), samples/s per epoch. The same process runs, interleaved with ours:
the cache off (two epochs; every epoch costs what the first does), pyfaidx + pyBigWig per
window (what ChromBPNet's own loader does) and pyfaidx + pybigtools with its block cache warm,
both on a sample of the same windows (a full epoch of them takes minutes). The process's RSS
is read after every epoch, against the bytes the cache holds. Every file is read once first
(read_through), so that the page cache is warm for every contender alike.

BigWigDataset draws centres uniformly over the regions, with replacement (as 0.3 does): an
epoch of 29,952 windows over 30,000 one-base peaks meets about 63% of them, so an epoch after
the first still meets peaks no epoch met before. Over chr21+22 that hardly matters (a peak every
3 kb: nearly every block is met in epoch 1); over the whole genome (peaks ~100 kb apart) the
plain cache warms over several epochs, and the preload() row shows the regions in the cache.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import torch

import bigwig_loader
import corpus
from end_to_end import ONE_HOT

PEAKS = 30_000
INPUT = 2_114
TARGET = 1_000
JITTER = 500
BATCH = 64
EPOCHS = 5
SAMPLE = 600  # windows the per-window contenders read


def rss_bytes(field: str = "VmRSS") -> int:
    """The process's resident memory (VmRSS), or one of its parts: RssFile is the file pages
    mapped (here the FASTA's pages read through its memory map: page cache the kernel may
    reclaim, counted per mapping), RssAnon the process's own memory (the block cache in it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def read_through(paths) -> None:
    """Reads every file once, so that the OS page cache holds them and no contender pays for
    the disk that another then finds warm (the first epoch measured is otherwise the only one
    that reads from disk)."""
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.read(16 << 20):
                pass


def peaks(spec: corpus.TrackSpec, rng: np.random.Generator, n: int) -> pd.DataFrame:
    names = list(spec.chroms)
    weights = np.asarray([corpus.HG38_SIZES[c] for c in names], dtype=float)
    chroms = np.asarray(names)[rng.choice(len(names), n, p=weights / weights.sum())]
    summits = np.asarray([rng.integers(10_000_000, corpus.HG38_SIZES[c] - 1_000_000) for c in chroms])
    return pd.DataFrame({"chrom": chroms, "start": summits, "end": summits + 1}).sort_values(["chrom", "start"])


def dataset(regions, paths, fasta, cache_bytes):
    return bigwig_loader.PytorchBigWigDataset(
        regions,
        paths,
        fasta,
        sequence_length=INPUT,
        center_bin_to_predict=TARGET,
        jitter=JITTER,
        batch_size=BATCH,
        batches_per_epoch=len(regions) // BATCH,
        seed=0,
        n_threads=os.cpu_count() or 1,
        maximum_unknown_bases_fraction=1.0,
        cache_bytes=cache_bytes,
        device="cpu",
    )


def epoch_rate(ds, epoch: int) -> float:
    ds.set_epoch(epoch)
    t0 = time.perf_counter()
    n = 0
    for sequences, values in torch.utils.data.DataLoader(ds, batch_size=None):
        n += sequences.shape[0]
    return n / (time.perf_counter() - t0)


def per_window_rate(read, windows) -> float:
    t0 = time.perf_counter()
    for c, s in windows:
        read(c, s)
    return len(windows) / (time.perf_counter() - t0)


def run(
    tracks: int,
    rng: np.random.Generator,
    n_peaks: int = PEAKS,
    chroms: tuple[str, ...] = corpus.DEFAULT_CHROMS,
    cache_bytes: int | None = None,
    with_preload: bool = True,
) -> list[str]:
    """The case over `chroms` (the corpus default, or corpus.GENOME_CHROMS), the cache bound
    `cache_bytes` (None: the default); `with_preload` False leaves out the preloaded dataset (a
    second cache as large as the first)."""
    spec = corpus.TrackSpec(chroms=chroms)
    paths = corpus.ensure_corpus(tracks, spec)
    fasta = corpus.ensure_reference(spec.chroms)
    regions = peaks(spec, rng, n_peaks)
    read_through([*paths, fasta])
    base_rss, base_file = rss_bytes(), rss_bytes("RssFile")
    on = dataset(regions, paths, fasta, cache_bytes)
    preloaded = dataset(regions, paths, fasta, cache_bytes) if with_preload else None
    off = dataset(regions, paths, fasta, 0)
    cache = on.dataset.collection
    # Every base a target window can reach: the region, half a target and the jitter either side.
    margin = TARGET // 2 + JITTER + 1
    reach = regions.assign(start=regions["start"] - margin, end=regions["end"] + margin)
    on_rates, pre_rates, off_rates, rss, rss_file, held = [], [], [], [], [], []
    on_cpu = []  # the process's CPU seconds per cache-on epoch: on a shared machine, fairer than wall time
    for e in range(EPOCHS):  # interleaved: cache on, cache on after preload, (twice) cache off
        c0 = time.process_time()
        on_rates.append(epoch_rate(on, e))
        on_cpu.append(time.process_time() - c0)
        rss.append(rss_bytes() - base_rss)
        rss_file.append(rss_bytes("RssFile") - base_file)
        held.append(cache.cache_info().bytes)
        if preloaded is not None:
            t0 = time.perf_counter()
            if e == 0:
                preloaded.dataset.collection.preload(reach, progress=False)
            preload_s = time.perf_counter() - t0
            rate = epoch_rate(preloaded, e)
            pre_rates.append(len(regions) // BATCH * BATCH / (preload_s + len(regions) // BATCH * BATCH / rate))
        if e < 2:
            off_rates.append(epoch_rate(off, e))

    # The per-window contenders, on windows of the same peaks (centre jittered like ours).
    sample = regions.sample(min(SAMPLE, len(regions)), random_state=0)
    windows = [
        (c, int(s) + int(rng.integers(-JITTER, JITTER + 1)) - INPUT // 2)
        for c, s in zip(sample["chrom"], sample["start"])
    ]
    import pybigtools
    import pyBigWig
    import pyfaidx

    genome = pyfaidx.Fasta(str(fasta), sequence_always_upper=False)
    bigwigs = [pyBigWig.open(str(p)) for p in paths]
    bigtools = [pybigtools.open(str(p)) for p in paths]

    def window(c, s, read_track):  # one-hot sequence and the target of every track, NaN as 0
        seq = str(genome[c][s : s + INPUT])
        onehot = ONE_HOT[np.frombuffer(seq.encode(), dtype=np.uint8)]
        lo = s + (INPUT - TARGET) // 2
        values = np.stack([np.nan_to_num(read_track(h, c, lo, lo + TARGET)) for h in range(len(paths))], axis=1)
        return onehot, values.astype(np.float32)

    pybigwig = per_window_rate(lambda c, s: window(c, s, lambda h, *a: bigwigs[h].values(*a, numpy=True)), windows)
    read_bigtools = lambda c, s: window(c, s, lambda h, *a: bigtools[h].values(*a, fillna=np.nan))  # noqa: E731
    per_window_rate(read_bigtools, windows)  # fills pybigtools' block caches
    pybigtools_warm = per_window_rate(read_bigtools, windows)

    info = cache.cache_info()
    bound = "default bound" if cache_bytes is None else f"cache_bytes={cache_bytes / 2**30:g} GiB"
    where = "the whole genome" if len(chroms) > 2 else "+".join(chroms)
    preload_lines = (
        [
            "| PytorchBigWigDataset, cache on, preload() first (counted in epoch 1) | "
            + " | ".join(f"{r:,.0f}" for r in pre_rates)
            + " |"
        ]
        if pre_rates
        else []
    )
    preload_ratios = (
        [
            f"With preload: epochs 2-5 against epoch 1 of the uncached loader: "
            f"{', '.join(f'{r / off_rates[0]:.1f}x' for r in pre_rates[1:])}; against pyfaidx + pyBigWig: "
            f"{', '.join(f'{r / pybigwig:.0f}x' for r in pre_rates[1:])}.  "
        ]
        if pre_rates
        else []
    )
    lines = [
        f"#### {tracks} tracks, {n_peaks:,} peaks over {where}",
        "",
        "| contender | " + " | ".join(f"epoch {e + 1}" for e in range(EPOCHS)) + " |",
        "|---|" + "---:|" * EPOCHS,
        f"| PytorchBigWigDataset, cache on ({bound}) | " + " | ".join(f"{r:,.0f}" for r in on_rates) + " |",
        *preload_lines,
        "| PytorchBigWigDataset, cache_bytes=0 | "
        + " | ".join(f"{r:,.0f}" for r in off_rates)
        + " | n/a" * (EPOCHS - len(off_rates))
        + " |",
        f"| pyfaidx + pyBigWig, per window ({SAMPLE} windows) | {pybigwig:,.0f} | | | | |",
        f"| pyfaidx + pybigtools, its cache warm ({SAMPLE} windows) | {pybigtools_warm:,.0f} | | | | |",
        "",
        f"Epochs 2-5 against epoch 1 (cache on): {', '.join(f'{r / on_rates[0]:.1f}x' for r in on_rates[1:])}; "
        f"against pyfaidx + pyBigWig: {', '.join(f'{r / pybigwig:.0f}x' for r in on_rates[1:])}; "
        f"against pybigtools warm: {', '.join(f'{r / pybigtools_warm:.1f}x' for r in on_rates[1:])}.  ",
        *preload_ratios,
        f"Cache after five epochs: {info.blocks:,} blocks, {info.bytes / 2**20:,.0f} MiB held of a "
        f"{info.max_bytes / 2**20:,.0f} MiB bound; {info.hits:,} hits, {info.misses:,} misses, "
        f"{info.evictions:,} evictions.  ",
        "Process CPU seconds per cache-on epoch: "
        + ", ".join(f"{c:.2f}" for c in on_cpu)
        + f" ({len(regions) // BATCH * BATCH:,} samples each).  ",
        "RSS growth over the process's start, after each epoch (MiB): "
        + ", ".join(f"{r / 2**20:,.0f}" for r in rss)
        + "; of it file pages mapped (the FASTA read through its memory map; page cache): "
        + ", ".join(f"{r / 2**20:,.0f}" for r in rss_file)
        + "; cache bytes held then (MiB): "
        + ", ".join(f"{h / 2**20:,.0f}" for h in held)
        + ".",
        "",
    ]
    return lines
