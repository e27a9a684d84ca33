"""Remote reads (issue 24): bigwig-loader over S3 and HTTP against pybigtools and pyBigWig.

Every track is served from 127.0.0.1 only: nginx (HTTP) and moto's S3 (every request signed),
each behind tests/python/fault_proxy.py's FaultProxy, which adds a round trip of 0 or 20 ms to
every request and counts requests and response bytes. Each reader runs in a process of its own,
one process per (reader, store, latency, round), the rounds interleaved; in each process the
files are opened (timed: the open), then per batch size one check batch is read and compared
with the local read (bigwig_loader on the local files; NaN equal to NaN), untimed, then the
timed batches. The proxy's counters are read before and after each step, so requests and bytes
are per step, exactly.

Readers:
  ours         BigWigCollection(urls, storage_options=..., cache_bytes=0).get_batch: cold, every
               batch fetched (one round per batch: every file's merged ranges at once; at
               9d35ad1 it was one round per file, the files one after another)
  ours local   the same windows from the local files, cache_bytes=0 (the local cold speed)
  pybigtools   pybigtools.open(url).values over HTTP, a loop over windows and tracks
  pyBigWig     pyBigWig built with libcurl (pip install --no-binary pyBigWig pyBigWig, with
               libcurl's development package), in its own venv (--pybigwig-python), a loop
The loops are slow at 20 ms (one round trip per block read, one at a time), so each reads the
windows of a batch in order until --loop-seconds have passed, and its rate is windows read over
time taken: a loop's rate does not depend on the batch size.

The gap of the range merge (cpp/io/remote_object.hpp, kMergeGapBytes) is fixed at build time,
so other gaps are emulated: the fetcher (bigwig_loader.remote.RangeFetcher._round) is patched
in the worker to fetch the batch's planned blocks (worked out here from each file's R-tree
index, and checked against the ranges the core asked for) merged with _core.merge_ranges at
the gap measured, every file's in one concurrent round at the core's first call of a batch (the
design: one round per batch), and to hand the core exactly the ranges it asked for (the bytes it
never reads, between blocks, as zeros; the output is still checked against the local read). The
requests and bytes each gap implies are also computed from the planned blocks alone.

Opening many files: --many copies (links, on nginx) of a small bigWig (--many-items items: 2,000 make 25 KB, all an
open reads lies in the first request; 30,000 make a file whose chromosome tree, written after
the data by pybigtools, lies past the first request) on both stores, opened by
BigWigCollection, timed; or of --many-file.

    .venv/bin/python benchmarks/remote.py --pybigwig-python .venv-pbw/bin/python [--quick]
        [--rounds 3] [--skip gap | --skip s3 pybigtools pybigwig] [--report out.md] [--json raw.json]

Never run by the test suite. The corpus is written on first use under benchmarks/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GAPS = [0, 16 << 10, 64 << 10, 256 << 10, 1 << 20]
MAX_MERGED = 8 << 20
LENGTH = 1000


# --- The index of a bigWig: every data block's extent, offset and size ---------------------


def block_extents(path: Path) -> dict[str, np.ndarray]:
    """Per chromosome name, an array (n, 4) of (start, end, offset, size) of its data blocks,
    in start order, from the file's chromosome B+ tree and R-tree index (leaves only)."""
    data = Path(path).read_bytes()
    chrom_tree, _, index = struct.unpack_from("<QQQ", data, 8)
    names: dict[int, str] = {}
    _, _, key_size, _, _ = struct.unpack_from("<IIIIQ", data, chrom_tree)

    def chrom_node(at: int) -> None:
        leaf, _, count = struct.unpack_from("<BBH", data, at)
        at += 4
        for _ in range(count):
            key = data[at : at + key_size].rstrip(b"\0").decode()
            if leaf:
                names[struct.unpack_from("<I", data, at + key_size)[0]] = key
                at += key_size + 8
            else:
                chrom_node(struct.unpack_from("<Q", data, at + key_size)[0])
                at += key_size + 8

    chrom_node(chrom_tree + 32)
    rows: list[tuple[int, int, int, int, int]] = []

    def index_node(at: int) -> None:
        leaf, _, count = struct.unpack_from("<BBH", data, at)
        at += 4
        for _ in range(count):
            if leaf:
                c0, s, c1, e, off, size = struct.unpack_from("<IIIIQQ", data, at)
                if c0 != c1:
                    raise ValueError(f"{path}: a block spans chromosomes; the plan here assumes none does")
                rows.append((c0, s, e, off, size))
                at += 32
            else:
                index_node(struct.unpack_from("<Q", data, at + 16)[0])
                at += 24

    index_node(index + 48)
    table = np.asarray(rows, dtype=np.int64)
    out = {}
    for cid, name in names.items():
        sel = table[table[:, 0] == cid][:, 1:]
        out[name] = sel[np.argsort(sel[:, 0], kind="stable")]
    return out


def planned_ranges(extents: dict[str, np.ndarray], chroms, starts, ends) -> np.ndarray:
    """(start, end) byte ranges of the blocks one file's windows overlap, unique, in file order:
    what the core's plan fetches from that file when nothing is cached."""
    chroms, starts, ends = np.asarray(chroms), np.asarray(starts), np.asarray(ends)
    parts = []
    for name in np.unique(chroms):
        blocks = extents.get(str(name))
        if blocks is None or len(blocks) == 0:
            continue
        sel = chroms == name
        # Blocks do not overlap one another: from the first that ends after a window's start to
        # the first that starts at or after its end.
        lo = np.searchsorted(blocks[:, 1], starts[sel], side="right")
        hi = np.searchsorted(blocks[:, 0], ends[sel], side="left")
        rows = np.unique(
            np.concatenate([np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist())] + [[]]).astype(np.int64)
        )
        parts.append(np.stack([blocks[rows, 2], blocks[rows, 2] + blocks[rows, 3]], axis=1))
    return _unique_rows(parts)


def _unique_rows(parts: list) -> np.ndarray:
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    rows = np.unique(np.concatenate(parts), axis=0)
    return rows[np.argsort(rows[:, 0], kind="stable")]


def merged_cost(planned: list[np.ndarray], gap: int) -> tuple[int, int]:
    """(requests, bytes) of fetching every file's planned ranges merged at `gap`."""
    from bigwig_loader import _core

    requests = fetched = 0
    for ranges in planned:
        merged = _core.merge_ranges([tuple(r) for r in ranges.tolist()], gap, MAX_MERGED)
        requests += len(merged)
        fetched += sum(e - s for s, e in merged)
    return requests, fetched


# --- The worker: one reader in a process of its own ----------------------------------------


class _Windows:
    def __init__(self, path: str):
        z = np.load(path, allow_pickle=False)
        self.chroms, self.starts, self.ends, self.bounds = z["chroms"], z["starts"], z["ends"], z["bounds"]

    def batch(self, i: int):
        a, b = int(self.bounds[i]), int(self.bounds[i + 1])
        return self.chroms[a:b], self.starts[a:b], self.ends[a:b]


def _open_reader(spec: dict):
    """(read(chroms, starts, ends) -> (windows, length, tracks) float32, is_loop)."""
    kind, urls = spec["reader"], spec["urls"]
    if kind == "ours":
        import bigwig_loader

        collection = bigwig_loader.BigWigCollection(urls, storage_options=spec.get("storage_options"), cache_bytes=0)

        def read(chroms, starts, ends):
            out = collection.get_batch(chroms, starts, ends, default_value=np.nan)
            return out if isinstance(out, np.ndarray) else np.from_dlpack(out)

        return read, False
    if kind == "pybigtools":
        import pybigtools

        handles = [pybigtools.open(u) for u in urls]
        one = lambda h, c, s, e: h.values(c, s, e, fillna=np.nan)  # noqa: E731
    elif kind == "pybigwig":
        import pyBigWig

        if not pyBigWig.remote:
            raise RuntimeError("this pyBigWig was built without libcurl: it cannot open URLs")
        handles = [pyBigWig.open(u) for u in urls]
        for u, h in zip(urls, handles):
            if h is None:
                raise RuntimeError(f"pyBigWig could not open {u}")
        one = lambda h, c, s, e: h.values(c, s, e, numpy=True)  # noqa: E731
    else:
        raise ValueError(kind)

    def loop(chroms, starts, ends):
        out = np.empty((len(starts), LENGTH, len(handles)), dtype=np.float32)
        for w, (c, s, e) in enumerate(zip(chroms.tolist(), starts.tolist(), ends.tolist())):
            for k, h in enumerate(handles):
                out[w, :, k] = one(h, c, s, e)
        return out

    return loop, True


class _GapFetch:
    """Patches bigwig_loader.remote.RangeFetcher._round so that a batch's blocks are fetched
    merged at `gap` instead of the built kMergeGapBytes, all files in one round (see the module's
    docstring: the core as built calls the fetcher once per file, one round trip after another)."""

    def __init__(self, gap: int, extents_path: str, urls: list[str]):
        from bigwig_loader import _core, remote

        self.gap, self.core, self.urls = gap, _core, urls
        z = np.load(extents_path, allow_pickle=True)
        self.extents = z["extents"].tolist()  # one dict per file, in the order of urls
        self.planned: dict[str, np.ndarray] | None = None
        self.fetched: dict[str, list] | None = None
        self.etags: dict[str, str] = {}
        self.mismatches = 0
        self.original = remote.RangeFetcher._round
        patch = self

        async def _round(fetcher, jobs):
            return await patch.round(fetcher, jobs)

        remote.RangeFetcher._round = _round

    def plan(self, chroms, starts, ends) -> None:
        self.fetched = None
        self.planned = {u: planned_ranges(x, chroms, starts, ends) for u, x in zip(self.urls, self.extents)}

    async def round(self, fetcher, jobs):
        if self.planned is None:  # the open's rounds: every file's ETag goes by
            self.etags.update({url: etag for url, etag, _, _ in jobs})
            return await self.original(fetcher, jobs)
        core = self.core
        for url, _, starts, ends in jobs:
            wanted = [tuple(r) for r in self.planned[url].tolist()]
            if core.merge_ranges(wanted, core.remote_merge_gap_bytes, MAX_MERGED) != list(zip(starts, ends)):
                self.mismatches += 1  # the plan here is not the core's: the emulation would be wrong
        if self.fetched is None:
            # The first call of a batch fetches every file's planned blocks, merged at the gap,
            # in one round; the calls for the other files are served from it.
            refetch, merged_per_url = [], {}
            etags = {url: etag for url, etag, _, _ in jobs}
            for url, wanted in self.planned.items():
                if len(wanted) == 0:
                    continue
                merged = core.merge_ranges([tuple(r) for r in wanted.tolist()], self.gap, MAX_MERGED)
                merged_per_url[url] = merged
                etag = etags.get(url, self.etags.get(url, ""))
                refetch.append((url, etag, [s for s, _ in merged], [e for _, e in merged]))
            answers = await self.original(fetcher, refetch)
            self.fetched = {
                url: list(zip(merged_per_url[url], buffers)) for (url, *_), buffers in zip(refetch, answers)
            }
        out = []
        for url, _, starts, ends in jobs:
            per_range = []
            for s, e in zip(starts, ends):
                buf = bytearray(e - s)
                for (ms, me), data in self.fetched[url]:
                    lo, hi = max(s, ms), min(e, me)
                    if lo < hi:
                        buf[lo - s : hi - s] = memoryview(data)[lo - ms : hi - ms]
                per_range.append(buf)
            out.append(per_range)
        return out


def worker(spec: dict) -> None:
    """Answers one JSON command a line on stdin with one JSON line on stdout."""
    windows = _Windows(spec["windows"])
    reader = is_loop = gap = None
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "open":
            t0 = time.perf_counter()
            if spec.get("gap") is not None:  # patched before the open, which shows it the ETags
                gap = _GapFetch(spec["gap"], spec["extents"], spec["urls"])
            reader, is_loop = _open_reader(spec)
            reply = {"seconds": time.perf_counter() - t0}
        elif cmd["op"] == "read":
            seconds, counts, outputs = [], [], []
            for i in cmd["batches"]:
                chroms, starts, ends = windows.batch(i)
                if gap is not None:
                    gap.plan(chroms, starts, ends)
                if is_loop:  # window by window until the time is up
                    t0, n, parts = time.perf_counter(), 0, []
                    while n < len(starts) and (n == 0 or time.perf_counter() - t0 < cmd["loop_seconds"]):
                        parts.append(reader(chroms[n : n + 1], starts[n : n + 1], ends[n : n + 1]))
                        n += 1
                    seconds.append(time.perf_counter() - t0)
                    out = np.concatenate(parts)
                else:
                    t0 = time.perf_counter()
                    out = reader(chroms, starts, ends)
                    seconds.append(time.perf_counter() - t0)
                    n = len(starts)
                counts.append(n)
                outputs.append(out)
            if cmd.get("save"):
                np.save(cmd["save"], np.concatenate(outputs))
            reply = {"seconds": seconds, "windows": counts, "mismatches": gap.mismatches if gap else 0}
        else:
            return
        print(json.dumps(reply), flush=True)


# --- The parent: data, servers, rounds, report ---------------------------------------------


def draw_batches(chroms: tuple[str, ...], sizes: list[int], rng: np.random.Generator):
    import corpus

    weights = np.asarray([corpus.HG38_SIZES[c] for c in chroms], dtype=float)
    out = []
    for n in sizes:
        picked = np.asarray(chroms)[rng.choice(len(chroms), n, p=weights / weights.sum())]
        starts = np.asarray([rng.integers(0, corpus.HG38_SIZES[c] - LENGTH) for c in picked], dtype=np.int64)
        out.append((picked, starts, starts + LENGTH))
    return out


class Worker:
    """A worker process and the proxy whose counters it is measured by."""

    def __init__(self, python: str, spec: dict, proxy):
        self.proxy = proxy
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        self.process = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def call(self, **cmd) -> dict:
        r0, b0 = self.proxy.requests_seen, self.proxy.body_bytes_forwarded
        self.process.stdin.write(json.dumps(cmd) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker died: {self.process.wait()}")
        reply = json.loads(line)
        reply["requests"] = self.proxy.requests_seen - r0
        reply["bytes"] = self.proxy.body_bytes_forwarded - b0
        return reply

    def close(self) -> None:
        try:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
        except OSError:
            pass
        self.process.wait(60)


class _NoProxy:
    requests_seen = 0
    body_bytes_forwarded = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--pybigwig-python", default=str(HERE.parent / ".venv-pbw" / "bin" / "python"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop-seconds", type=float, default=2.0)
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 256, 4096])
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--gaps", type=int, nargs="*", default=GAPS)
    parser.add_argument("--many", type=int, default=1000, help="files for the open-many case (0: skip)")
    parser.add_argument("--many-items", type=int, default=2000, help="items in each of the open-many case's files")
    parser.add_argument("--many-file", help="a bigWig to open --many times instead (e.g. an ENCODE file, UCSC layout)")
    parser.add_argument("--skip", nargs="*", default=[], help="readers to leave out (pybigwig, pybigtools, s3, gap)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report", type=Path)
    parser.add_argument("--json", type=Path, help="raw results")
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.quick:
        args.rounds, args.batches, args.loop_seconds, args.gaps, args.many = 1, [16, 256], 0.5, [0, 65536], 50
    run(args)


def run(args) -> None:
    sys.path.insert(0, str(HERE))
    sys.path.append(str(HERE.parent / "tests" / "python"))  # after HERE: it has a corpus.py of its own
    import corpus
    from remote_servers import FaultProxy, MotoS3Server, NginxServer

    import bigwig_loader

    spec = corpus.TrackSpec()
    paths = corpus.ensure_corpus(16, spec)
    work = Path(tempfile.mkdtemp(prefix="bwl-remote-bench-"))
    results: dict = {"cases": [], "many": [], "gap_costs": {}}
    try:
        # Windows: per batch size one check batch and the timed batches.
        timed_per_size = {16: 4, 256: 2, 4096: 1}
        rng = np.random.default_rng(24)
        sizes, layout, at = [], {}, 0
        for b in args.batches:
            n = 1 + timed_per_size.get(b, 1)
            layout[b] = list(range(at, at + n))
            sizes += [b] * n
            at += n
        batches = draw_batches(spec.chroms, sizes, rng)
        windows_path = work / "windows.npz"
        bounds = np.cumsum([0] + [len(c) for c, _, _ in batches])
        np.savez(
            windows_path,
            chroms=np.concatenate([c for c, _, _ in batches]).astype(str),
            starts=np.concatenate([s for _, s, _ in batches]),
            ends=np.concatenate([e for _, _, e in batches]),
            bounds=bounds,
        )
        # The local read every output is checked against.
        local = bigwig_loader.BigWigCollection(paths, cache_bytes=0)
        reference = {
            b: np.from_dlpack(local.get_batch(*batches[layout[b][0]], default_value=np.nan)) for b in args.batches
        }
        del local
        extents = [block_extents(p) for p in paths]
        extents_path = work / "extents.npz"
        np.savez(extents_path, extents=np.asarray(extents, dtype=object))
        for b in args.batches:  # what each gap implies, from the planned blocks alone
            per_gap = {}
            for g in GAPS:
                costs = [merged_cost([planned_ranges(x, *batches[i]) for x in extents], g) for i in layout[b][1:]]
                per_gap[g] = [float(np.mean([c[0] for c in costs])), float(np.mean([c[1] for c in costs]))]
            blocks = [sum(len(planned_ranges(x, *batches[i])) for x in extents) for i in layout[b][1:]]
            results["gap_costs"][b] = {"blocks": float(np.mean(blocks)), "gaps": per_gap}

        # Servers: nginx and moto, each behind a FaultProxy.
        www = work / "www"
        www.mkdir()
        for p in paths:
            os.symlink(p, www / p.name)
        small = Path(args.many_file).resolve() if args.many_file else _small_bigwig(work / "small.bw", args.many_items)
        results["many_file_bytes"] = small.stat().st_size
        if args.many:
            (www / "many").mkdir()
            for i in range(args.many):
                os.symlink(small, www / "many" / f"f{i:04d}.bw")
        nginx = NginxServer(www)
        moto = None if "s3" in args.skip else MotoS3Server()
        http_proxy = FaultProxy(nginx.base_url)
        s3_proxy = FaultProxy(moto.endpoint_url, s3_errors=True) if moto else None
        try:
            if moto:
                moto.create_bucket("bench")
                for p in paths:
                    moto.upload(p, "bench", f"tracks/{p.name}")
                small_bytes = small.read_bytes()
                for i in range(args.many):
                    moto.upload(small_bytes, "bench", f"many/f{i:04d}.bw")
            stores = {"http": (http_proxy, None, lambda name: f"{http_proxy.url}/{name}")}
            if moto:
                options = {
                    "key": moto.access_key_id,
                    "secret": moto.secret_access_key,
                    "endpoint_url": s3_proxy.url,
                    "region_name": moto.region,
                }
                stores["s3"] = (s3_proxy, options, lambda name: f"s3://bench/{name}")
            run_rounds(args, results, paths, stores, layout, reference, windows_path, extents_path, work)
        finally:
            http_proxy.close()
            if s3_proxy:
                s3_proxy.close()
            nginx.close()
            if moto:
                moto.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    text = report(args, results)
    print(text)
    if args.report:
        args.report.write_text(text)


def _small_bigwig(path: Path, items: int) -> Path:
    """A small bigWig (chr21, `items` items of 10 bp): the open-many case's file, copied."""
    import pybigtools

    rng = np.random.default_rng(7)
    starts = np.sort(rng.choice(4_000_000, items, replace=False)) * 10 + 5_000_000  # 10 bp items, apart
    tmp = path.with_name("small.partial.bw")
    w = pybigtools.open(str(tmp), "w")
    w.write(
        {"chr21": 46_709_983}, ((("chr21", int(s), int(s) + 10, float(v)) for s, v in zip(starts, rng.random(items))))
    )
    tmp.rename(path)
    return path


def run_rounds(args, results, paths, stores, layout, reference, windows_path, extents_path, work) -> None:
    names = [p.name for p in paths]
    cases = []  # (label, store, reader, python, urls, options, proxy, gap)
    for store, (proxy, options, url) in stores.items():
        prefix = "" if store == "http" else "tracks/"
        urls = [url(prefix + n) for n in names]
        cases.append((f"bigwig_loader ({store})", store, "ours", sys.executable, urls, options, proxy, None))
        if store == "http":
            if "pybigtools" not in args.skip:
                cases.append(("pybigtools (http)", store, "pybigtools", sys.executable, urls, None, proxy, None))
            if "pybigwig" not in args.skip:
                cases.append(
                    ("pyBigWig libcurl (http)", store, "pybigwig", args.pybigwig_python, urls, None, proxy, None)
                )
            if "gap" not in args.skip:
                for g in args.gaps:
                    cases.append(
                        (
                            f"one round, gap {g >> 10} KiB (emulated)",
                            store,
                            "ours",
                            sys.executable,
                            urls,
                            None,
                            proxy,
                            g,
                        )
                    )
    local_case = (
        "bigwig_loader (local, cache off)",
        "local",
        "ours",
        sys.executable,
        [str(p) for p in paths],
        None,
        _NoProxy(),
        None,
    )
    many_cases = []
    for store, (proxy, options, url) in stores.items():
        if args.many:
            many_cases.append((store, [url(f"many/f{i:04d}.bw") for i in range(args.many)], options, proxy))

    def one(label, store, reader, python, urls, options, proxy, gap, latency, r):
        spec = {"reader": reader, "urls": urls, "storage_options": options, "windows": str(windows_path)}
        if gap is not None:
            spec.update(gap=gap, extents=str(extents_path))
        w = Worker(python, spec, proxy)
        try:
            row = {
                "label": label,
                "store": store,
                "latency": latency,
                "round": r,
                "open": w.call(op="open"),
                "batches": {},
            }
            for b in args.batches:
                check = w.call(
                    op="read", batches=layout[b][:1], loop_seconds=args.loop_seconds, save=str(work / "check.npy")
                )
                got = np.load(work / "check.npy")
                want = reference[b][: len(got)]
                same = got.shape == want.shape and np.array_equal(got, want, equal_nan=True)
                timed = w.call(op="read", batches=layout[b][1:], loop_seconds=args.loop_seconds)
                n = sum(timed["windows"])
                row["batches"][b] = {
                    "same": bool(same),
                    "checked_windows": int(len(got)),
                    "windows_per_second": n / sum(timed["seconds"]),
                    "requests_per_batch": timed["requests"] / len(timed["seconds"]),
                    "bytes_per_batch": timed["bytes"] / len(timed["seconds"]),
                    "windows_per_batch": n / len(timed["seconds"]),
                    "mismatches": timed["mismatches"] + check["mismatches"],
                }
            print(
                f"  {label} at {latency:g} ms, round {r + 1}: "
                + ", ".join(
                    f"{b}: {v['windows_per_second']:,.0f}/s{'' if v['same'] else ' WRONG'}"
                    for b, v in row["batches"].items()
                ),
                file=sys.stderr,
                flush=True,
            )
            return row
        finally:
            w.close()

    for r in range(args.rounds):
        for li, latency in enumerate(args.latencies):
            for _, (proxy, _, _) in stores.items():
                proxy.set_latency_ms(latency)
            order = cases + ([local_case] if li == 0 else [])
            turn = (r + li) % len(order)
            for case in order[turn:] + order[:turn]:
                row = one(*case, latency if case[1] != "local" else 0.0, r)
                results["cases"].append(row)
            for store, urls, options, proxy in many_cases:
                spec = {"reader": "ours", "urls": urls, "storage_options": options, "windows": str(windows_path)}
                w = Worker(sys.executable, spec, proxy)
                try:
                    opened = w.call(op="open")
                finally:
                    w.close()
                results["many"].append({"store": store, "latency": latency, "round": r, **opened})
                print(
                    f"  open {len(urls)} {store} files at {latency:g} ms: {opened['seconds']:.2f} s, {opened['requests']} requests",
                    file=sys.stderr,
                    flush=True,
                )
    for _, (proxy, _, _) in stores.items():
        proxy.set_latency_ms(0)


# --- The report ----------------------------------------------------------------------------


def _spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    if not values:
        return "-"
    v = sorted(values)
    med = float(np.median(v))
    return fmt.format(med) if len(v) == 1 else f"{fmt.format(med)} [{fmt.format(v[0])}-{fmt.format(v[-1])}]"


def report(args, results) -> str:
    rows = results["cases"]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    out = []
    for latency in args.latencies:
        out += [f"#### Added round trip {latency:g} ms", ""]
        out.append("| reader | " + " | ".join(f"batch {b:,}: windows/s" for b in args.batches) + " | open (s) |")
        out.append("|---|" + "---:|" * (len(args.batches) + 1))
        for label in labels:
            mine = [r for r in rows if r["label"] == label and (r["latency"] == latency or r["store"] == "local")]
            if not mine:
                continue
            cells = []
            for b in args.batches:
                pts = [r["batches"][b] for r in mine]
                wrong = [p for p in pts if not p["same"]]
                cells.append("WRONG" if wrong else _spread([p["windows_per_second"] for p in pts]))
            out.append(
                f"| {label} | " + " | ".join(cells) + f" | {_spread([r['open']['seconds'] for r in mine], '{:.2f}')} |"
            )
        out.append("")
        out.append(
            "| reader | "
            + " | ".join(f"batch {b:,}: requests / MB per batch" for b in args.batches)
            + " | open: requests / MB |"
        )
        out.append("|---|" + "---:|" * (len(args.batches) + 1))
        for label in labels:
            mine = [r for r in rows if r["label"] == label and r["latency"] == latency and r["store"] != "local"]
            if not mine:
                continue
            cells = []
            for b in args.batches:
                pts = [r["batches"][b] for r in mine]
                per_window = (
                    ""
                    if not pts or pts[0]["windows_per_batch"] == b
                    else f" ({pts[0]['windows_per_batch']:.0f} windows)"
                )
                requests = np.median([p["requests_per_batch"] for p in pts])
                megabytes = np.median([p["bytes_per_batch"] for p in pts]) / 1e6
                cells.append(f"{requests:,.0f} / {megabytes:,.1f}{per_window}")
            o = mine[0]["open"]
            out.append(f"| {label} | " + " | ".join(cells) + f" | {o['requests']} / {o['bytes'] / 1e6:.2f} |")
        out.append("")
    mism = sum(p["mismatches"] for r in rows for p in r["batches"].values())
    checked = {r["label"]: min(p["checked_windows"] for p in r["batches"].values()) for r in rows}
    out.append(
        f"Checks: every reader's first batch of each size equal to the local read (NaN = NaN): "
        f"{'all equal' if all(p['same'] for r in rows for p in r['batches'].values()) else 'SOME WRONG'}; "
        f"windows checked per batch size at least {checked}. Plan mismatches in the gap emulation: {mism}."
    )
    out.append("")
    out.append("#### Requests and MB per batch implied by merging the planned blocks at each gap (computed)")
    out.append("")
    out.append("| batch | blocks | " + " | ".join(f"gap {g >> 10} KiB" for g in GAPS) + " |")
    out.append("|---:|---:|" + "---:|" * len(GAPS))
    for b, c in results["gap_costs"].items():
        cells = [f"{c['gaps'][g][0]:,.0f} / {c['gaps'][g][1] / 1e6:,.1f}" for g in GAPS]
        out.append(f"| {b:,} | {c['blocks']:,.0f} | " + " | ".join(cells) + " |")
    out.append("")
    if results["many"]:
        out.append("#### Opening many files")
        out.append("")
        what = Path(args.many_file).name if args.many_file else f"{args.many_items:,} items of 10 bp, pybigtools"
        out.append(f"Each file {results['many_file_bytes'] / 1e3:,.0f} KB ({what}).")
        out.append("")
        out.append("| store | added round trip | files | open (s) | requests | MB |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for store in dict.fromkeys(m["store"] for m in results["many"]):
            for latency in args.latencies:
                ms = [m for m in results["many"] if m["store"] == store and m["latency"] == latency]
                out.append(
                    f"| {store} | {latency:g} ms | {args.many:,} | {_spread([m['seconds'] for m in ms], '{:.2f}')} | "
                    f"{ms[0]['requests']:,} | {ms[0]['bytes'] / 1e6:.1f} |"
                )
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
