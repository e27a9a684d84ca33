"""The collection's cache of decoded blocks: the same values as the uncached path, whatever its
size; its counters; preload; the bound; cache_bytes=0; corrupt blocks; threads."""

from __future__ import annotations

import os
import re
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import bigwig_loader
from bigwig_loader.cache import CacheInfo, default_cache_bytes
from conftest import bigwig_id, copy_with_corrupt_data, real_bigwigs

BIG = 1 << 30


def values(collection, chroms, starts, ends, **kwargs) -> np.ndarray:
    """The batch as numpy (bfloat16 as its 16-bit patterns: numpy has no bfloat16)."""
    t = torch.from_dlpack(collection.get_batch(chroms, starts, ends, device="cpu", **kwargs))
    return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().copy()


def requests(collection, seed: int, length: int = 1000, n: int = 12):
    """(chroms, starts, ends, kwargs) over windows, NaN and other defaults, bfloat16, scales,
    subsets; windows hang over chromosome ends."""
    rng = np.random.default_rng(seed)
    sizes = collection.chrom_sizes
    names = list(sizes)
    out = []
    for window_size in (1, 3, 128):
        for default in (0.0, float("nan"), 5.5):
            for dtype in ("float32", "bfloat16"):
                chroms = [names[i] for i in rng.integers(0, len(names), n)]
                starts = np.array([rng.integers(-length // 2, sizes[c] + length // 2) for c in chroms], dtype=np.int64)
                kwargs = dict(window_size=window_size, default_value=default, dtype=dtype)
                if window_size == 3:
                    kwargs["track_indices"] = [len(collection) - 1, 0]
                out.append((chroms, starts, starts + length, kwargs))
    return out


def one_batch_bytes(paths, request) -> int:
    probe = bigwig_loader.BigWigCollection(paths, cache_bytes=BIG, n_threads=2)
    chroms, starts, ends, kwargs = request
    values(probe, chroms, starts, ends, **kwargs)
    return probe.cache_info().bytes


def assert_cached_equals_uncached(paths, cache_bytes: int, scale=None, seed: int = 3) -> CacheInfo:
    plain = bigwig_loader.BigWigCollection(paths, cache_bytes=0, n_threads=2, scale=scale)
    cached = bigwig_loader.BigWigCollection(paths, cache_bytes=cache_bytes, n_threads=2, scale=scale)
    batches = requests(plain, seed)
    for _ in range(2):  # cold, then warm
        for chroms, starts, ends, kwargs in batches:
            want = values(plain, chroms, starts, ends, **kwargs)
            got = values(cached, chroms, starts, ends, **kwargs)
            assert got.dtype == want.dtype
            assert got.tobytes() == want.tobytes(), (cache_bytes, kwargs)
            assert cached.cache_info().bytes <= cache_bytes
    return cached.cache_info()


@pytest.fixture(scope="module")
def collection_paths(collection_dir: Path) -> list[Path]:
    return sorted(collection_dir.glob("*.bw"))


@pytest.mark.parametrize("size", ["smaller than a batch", "one batch", "larger"])
def test_generated_collection_equals_the_uncached_path(collection_paths, size) -> None:
    probe = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=0)
    batch = one_batch_bytes(collection_paths, requests(probe, 3)[0])
    cache_bytes = {"smaller than a batch": batch // 3, "one batch": batch, "larger": BIG}[size]
    scale = {collection_paths[0].stem: 0.5, collection_paths[-1].stem: -2.0}
    info = assert_cached_equals_uncached(collection_paths, cache_bytes, scale=scale)
    if size == "larger":
        assert info.hits > 0 and info.evictions == 0 and info.misses == info.blocks
    elif size == "smaller than a batch":
        assert info.evictions > 0


@pytest.mark.parametrize("path", real_bigwigs(), ids=bigwig_id)
def test_every_real_file_equals_the_uncached_path(path: Path) -> None:
    batch = one_batch_bytes([path], requests(bigwig_loader.BigWigCollection([path], cache_bytes=0), 3)[0])
    assert_cached_equals_uncached([path], max(batch // 2, 1))
    info = assert_cached_equals_uncached([path], BIG)
    assert info.misses == info.blocks and info.hits >= info.misses  # read once, then served


def test_cache_info_counts_hits_misses_and_what_is_held(collection_paths) -> None:
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG)
    assert c.cache_info() == CacheInfo(0, 0, 0, 0, 0, BIG)
    assert c.cache_bytes == BIG
    chroms, starts = ["chr1", "chr2"], np.array([1000, 5000])
    values(c, chroms, starts, starts + 4000)
    cold = c.cache_info()
    assert cold.hits == 0 and cold.misses > 0 and cold.blocks == cold.misses and cold.bytes > 0
    values(c, chroms, starts, starts + 4000)
    warm = c.cache_info()
    assert warm.hits == cold.misses and warm.misses == cold.misses and warm.blocks == cold.blocks
    c.cache_clear()
    assert c.cache_info().blocks == 0 and c.cache_info().bytes == 0 and c.cache_info().hits == warm.hits
    c.cache_bytes = 0
    assert c.cache_info().max_bytes == 0


def test_cache_bytes_zero_caches_nothing(collection_paths) -> None:
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=0)
    for chroms, starts, ends, kwargs in requests(c, 4)[:4]:
        values(c, chroms, starts, ends, **kwargs)
    assert c.cache_info() == CacheInfo(0, 0, 0, 0, 0, 0)


def test_the_default_bound_is_an_eighth_of_memory_at_most_4_gib(collection_paths) -> None:
    default = default_cache_bytes()
    assert 0 < default <= 4 << 30
    assert bigwig_loader.BigWigCollection(collection_paths).cache_bytes == default


@pytest.mark.parametrize("bad, error", [(-1, ValueError), ("1GB", TypeError), (1.5, TypeError), (True, TypeError)])
def test_bad_cache_bytes_is_refused(collection_paths, bad, error) -> None:
    with pytest.raises(error, match="cache_bytes"):
        bigwig_loader.BigWigCollection(collection_paths, cache_bytes=bad)


def test_concurrent_batches_over_a_tiny_cache_match(collection_paths) -> None:
    plain = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=0, n_threads=1)
    tiny = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=64 << 10, n_threads=2)
    batches = requests(plain, 7, length=700)
    want = [values(plain, c, s, e, **k) for c, s, e, k in batches]

    def worker(t: int) -> bool:
        ok = True
        for i in range(3 * len(batches)):
            k = (i + 5 * t) % len(batches)
            c, s, e, kw = batches[k]
            ok &= values(tiny, c, s, e, **kw).tobytes() == want[k].tobytes()
        return ok

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(worker, range(4)))
    info = tiny.cache_info()
    assert info.evictions > 0 and info.bytes <= 64 << 10


def test_a_corrupt_block_raises_on_every_read(tmp_path: Path) -> None:
    path = copy_with_corrupt_data(tmp_path)
    c = bigwig_loader.BigWigCollection([path], cache_bytes=BIG)
    chrom = c.chromosomes[0]
    for _ in range(3):
        with pytest.raises(bigwig_loader.BigWigError, match="corrupt"):
            values(c, [chrom], [0], [50_000])
    regions = pd.DataFrame({"chrom": [chrom], "start": [0], "end": [50_000]})
    with pytest.raises(bigwig_loader.BigWigError, match="corrupt"):
        c.preload(regions, progress=False)
    with pytest.raises(bigwig_loader.BigWigError, match="corrupt"):
        values(c, [chrom], [0], [50_000])


def test_preload_fills_the_cache_so_batches_only_hit(collection_paths) -> None:
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG)
    plain = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=0)
    regions = pd.DataFrame(
        {"chrom": ["chr1", "chr2", "chr1"], "start": [0, 2000, 50_000], "end": [20_000, 9000, 60_000]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = c.preload(regions, progress=False)
    assert info.blocks > 0 and info.misses == 0 and info.evictions == 0
    starts = np.array([0, 2500, 55_000])
    got = values(c, ["chr1", "chr2", "chr1"], starts, starts + 4000, window_size=2)
    want = values(plain, ["chr1", "chr2", "chr1"], starts, starts + 4000, window_size=2)
    assert got.tobytes() == want.tobytes()
    assert c.cache_info().misses == 0 and c.cache_info().hits > 0
    assert c.preload(regions, progress=False).blocks == info.blocks  # nothing new


def test_preload_stops_at_the_bound_and_says_how_much_fit(collection_paths) -> None:
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=32 << 10)
    sizes = c.chrom_sizes
    regions = pd.DataFrame({"chrom": list(sizes), "start": 0, "end": list(sizes.values())})
    with pytest.warns(UserWarning) as caught:
        info = c.preload(regions, progress=False)
    assert 0 < info.bytes <= 32 << 10 and info.evictions == 0
    (warning,) = caught
    assert re.fullmatch(
        rf"preload stopped: the cache is full \(cache_bytes is 32\.0 KiB\)\. It holds the blocks of the first 0 of "
        rf"the {len(regions)} regions \(0\.0%\), and \d+ of the \d+ blocks of the next {len(regions)}; the rest will "
        r"be read from the files when a batch needs them\. To hold them all, give the collection a larger cache_bytes\.",
        str(warning.message),
    )


def test_preload_shows_its_bar_only_where_stderr_is_a_terminal(collection_paths, capsys, monkeypatch) -> None:
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [20_000]})
    bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG).preload(regions)
    assert capsys.readouterr().err == ""  # stderr is captured here, not a terminal: no bar
    bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG).preload(regions, progress=True)
    assert "preload: 100%" in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG).preload(regions)
    assert "1/1 [" in capsys.readouterr().err


def test_preload_checks_its_regions(collection_paths) -> None:
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG)
    with pytest.raises(ValueError, match="'end' is missing"):
        c.preload(pd.DataFrame({"chrom": ["chr1"], "start": [0]}), progress=False)
    with pytest.raises(KeyError, match="chrNope"):
        c.preload(pd.DataFrame({"chrom": ["chrNope"], "start": [0], "end": [10]}), progress=False)
    off = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=0)
    with pytest.warns(UserWarning, match="cache is off"):
        off.preload(pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]}), progress=False)


def test_loaders_pass_cache_bytes_on(collection_paths) -> None:
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=BIG)
    loader = bigwig_loader.StreamedDataloader(
        [(["chr1"], [0], [1000])] * 3, c, num_threads=2, device="cpu", cache_bytes=1 << 20
    )
    with loader:
        batches = list(loader)
    assert len(batches) == 3 and c.cache_bytes == 1 << 20
    info = c.cache_info()
    assert info.hits > 0  # the workers share the collection's cache


def test_datasets_take_cache_bytes() -> None:
    from conftest import real_file

    regions = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})
    options = dict(
        sequence_length=200,
        center_bin_to_predict=100,
        batch_size=8,
        batches_per_epoch=4,
        seed=3,
        n_threads=2,
        device="cpu",
    )
    track, fasta = real_file("deeptools/bamCoverage_result4.bw"), real_file("deeptools/phiX.fasta")
    cached = bigwig_loader.BigWigDataset(regions, track, fasta, cache_bytes=1 << 20, **options)
    plain = bigwig_loader.BigWigDataset(regions, track, fasta, cache_bytes=0, **options)
    assert cached.collection.cache_bytes == 1 << 20 and plain.collection.cache_bytes == 0
    for _ in range(2):  # the same epoch twice: the second is served from the cache
        for (seq_a, val_a), (seq_b, val_b) in zip(cached, plain):
            np.testing.assert_array_equal(val_a, val_b)
            np.testing.assert_array_equal(seq_a, seq_b)
    assert cached.collection.cache_info().hits > 0 and plain.collection.cache_info().blocks == 0
    # A given collection keeps its bound unless cache_bytes is passed.
    shared = bigwig_loader.BigWigCollection([track], cache_bytes=12345)
    assert bigwig_loader.BigWigDataset(regions, shared, fasta, **options).collection.cache_bytes == 12345
    bigwig_loader.PytorchBigWigDataset(regions, shared, fasta, cache_bytes=777, **options)
    assert shared.cache_bytes == 777


def test_bench_takes_cache_bytes() -> None:
    import io
    import json

    from bigwig_loader import cli
    from conftest import real_file

    def bench(cache_bytes: int, *more: str) -> tuple[int, str]:
        out = io.StringIO()
        track = str(real_file("deeptools/bamCoverage_result4.bw"))
        args = [track, "--batch-size", "4", "--batches", "2", "--length", "100", "--no-progress"]
        code = cli.main(["bench", *args, "--cache-bytes", str(cache_bytes), *more], out=out)
        return code, out.getvalue()

    code, text = bench(0, "--json")
    assert code == 0
    assert json.loads(text)["cache"] == dict(hits=0, misses=0, evictions=0, blocks=0, bytes=0, max_bytes=0)
    code, text = bench(1 << 20)
    assert code == 0
    assert "block cache: 1.0 MB bound" in text


def test_large_batches_plan_and_look_up_on_the_pool_as_one_thread_does(tmp_path: Path) -> None:
    """A batch of at least 2,048 columns searches its blocks in tasks on the pool, and one of at
    least 1,024 planned blocks looks them up in ranges on the pool: cold and warm, the batch is
    the one thread's, every block is looked up once, and the stage times show several tasks."""
    import shutil

    from conftest import real_file

    source = real_file("bbi-js/ENCFF826FLP.bw")
    paths = []
    for i in range(4):  # four files of 287 blocks each: over 1,024 planned blocks
        paths.append(tmp_path / f"copy{i}.bw")
        shutil.copyfile(source, paths[-1])
    one = bigwig_loader.BigWigCollection(paths, cache_bytes=0, n_threads=1)
    pooled = bigwig_loader.BigWigCollection(paths, cache_bytes=BIG, n_threads=3)
    (chrom,) = one.chrom_sizes
    rng = np.random.default_rng(11)
    starts = rng.integers(-500, one.chrom_sizes[chrom], 1500)  # 6,000 columns
    chroms = [chrom] * len(starts)
    want = values(one, chroms, starts, starts + 1000, default_value=np.nan)
    processor = pooled._processors[-1]
    processor.time_stages(True)
    for _ in range(2):  # cold, then warm
        got = values(pooled, chroms, starts, starts + 1000, default_value=np.nan)
        assert got.tobytes() == want.tobytes()
    info = pooled.cache_info()
    assert info.blocks >= 1024 and info.misses == info.blocks and info.hits == info.blocks
    t = processor.stage_times()
    for phase in ("plan_search", "lookup"):
        assert t[f"{phase}_longest_task_ms"] < t[f"{phase}_work_ms"], (phase, t)  # several tasks


# From Python 3.12 os.fork() in a process with threads warns (the pool's are idle at the fork, and
# the child only reads a flag and exits).
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_get_batch_puts_the_bus_error_guard_back_once_in_a_torch_worker(monkeypatch, collection_paths) -> None:
    """A bigWig's blocks are inflated in its mapping under a SIGBUS guard that torch's DataLoader
    workers displace with their own handler: get_batch, called from a user's Dataset in such a
    worker, puts the guard back in front once per process (and never outside a worker)."""
    from bigwig_loader import _core, genome

    calls = []
    monkeypatch.setattr(_core, "reclaim_fault_handler", lambda: calls.append(1) or False)
    monkeypatch.setattr(genome, "_guarded_in_process", False)
    c = bigwig_loader.BigWigCollection(collection_paths, cache_bytes=0)
    c.get_batch(["chr1"], [1000], [2000])
    assert calls == []  # not in a worker
    monkeypatch.setattr(genome, "_guarded_in_process", False)
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: object())
    for _ in range(3):
        c.get_batch(["chr1"], [1000], [2000])
    assert calls == [1]
    # A forked child (a DataLoader worker) guards again: it starts with the flag down.
    pid = os.fork()
    if pid == 0:
        os._exit(0 if genome._guarded_in_process is False else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert genome._guarded_in_process is True  # the parent keeps its own


@pytest.mark.parametrize("address_space_limited", [False, True])
def test_local_bigwigs_are_mapped_unless_address_space_is_limited(address_space_limited: bool) -> None:
    """A local bigWig is mapped at open (its blocks inflated where they lie), except under a
    finite RLIMIT_AS, where mapping every file would spend the address space: then it is read
    with pread. The batch is the same either way."""
    import resource
    import subprocess

    from conftest import real_file

    path = real_file("bbi-js/ENCFF826FLP.bw")
    # The mapping is found by the file's inode, not its path: /proc/self/maps names the file by
    # its canonical path, and the path the tests are given may pass through '..' or a symlink.
    code = f"""
import os, resource, numpy as np, bigwig_loader
_, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, ((64 << 30) if {address_space_limited} else hard, hard))
c = bigwig_loader.BigWigCollection([{str(path)!r}], cache_bytes=0)
(chrom,) = c.chrom_sizes
v = np.asarray(c.get_batch([chrom] * 3, [20_000_000, 30_000_000, 40_000_000], [20_001_000, 30_001_000, 40_001_000]))
st = os.stat({str(path)!r})
identity = [f"{{os.major(st.st_dev):02x}}:{{os.minor(st.st_dev):02x}}", str(st.st_ino)]
mapped = any(line.split()[3:5] == identity for line in open("/proc/self/maps"))
print(int(mapped), float(np.nansum(v)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == ("0" if address_space_limited else "1"), f"RLIMIT_AS {resource.getrlimit(resource.RLIMIT_AS)}"
    plain = bigwig_loader.BigWigCollection([path], cache_bytes=0)
    (chrom,) = plain.chrom_sizes
    want = np.asarray(
        plain.get_batch([chrom] * 3, [20_000_000, 30_000_000, 40_000_000], [20_001_000, 30_001_000, 40_001_000])
    )
    assert float(out[1]) == float(np.nansum(want))
