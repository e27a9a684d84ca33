"""Tracks read from real servers on loopback: moto's S3 (signatures checked) and nginx (HTTP byte
ranges), with the project's fault-injecting proxy between client and server where a test needs
faults or request counts. Every read through a URL equals the local read bit for bit."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bigwig_loader
from bigwig_loader import BigWig, BigWigCollection, remote
from bigwig_loader.paths import find_bigwig_files
from conftest import REPO_ROOT, real_bigwigs

BUCKET = "bwl-remote-tracks"


def _bits(a) -> np.ndarray:
    """The raw bits of a batch (float32 or bfloat16), so that NaN payloads compare exactly."""
    arr = np.asarray(np.from_dlpack(a) if hasattr(a, "__dlpack__") else a)
    return arr.view(np.uint16 if arr.dtype == np.uint16 else np.uint32)


def _relative(path: Path, i: int) -> str:
    return f"{i:02d}-{path.parent.name}/{path.name}"


@pytest.fixture(scope="module")
def uploaded(s3_server, nginx_server) -> list[tuple[Path, str, str]]:
    """Every real bigWig (generated stand-ins and the shared files where present) as
    (local path, s3:// URL, http:// URL), in the order a collection sorts the local paths in, so
    that track i is the same file in a collection of the paths and one of the URLs (the URLs'
    numbered prefixes keep that order wherever the two folders lie)."""
    try:
        s3_server.create_bucket(BUCKET)
    except Exception:  # noqa: BLE001 - the bucket of an earlier module in this session
        pass
    out = []
    for i, path in enumerate(sorted(real_bigwigs(), key=str)):
        relative = _relative(path, i)
        s3_server.upload(path, BUCKET, f"tracks/{relative}")
        target = Path(nginx_server.root) / "tracks" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        out.append((path, f"s3://{BUCKET}/tracks/{relative}", nginx_server.url(f"tracks/{relative}")))
    return out


def _windows(bigwig: BigWig, n: int, length: int, seed: int) -> tuple[list[str], np.ndarray]:
    """n windows of `length` on the file's chromosomes, some running past an end."""
    rng = np.random.default_rng(seed)
    chroms = list(bigwig.chroms.items())
    picked = [chroms[i] for i in rng.integers(0, len(chroms), n)]
    starts = np.array([rng.integers(-length // 2, max(1, size - length // 2)) for _, size in picked])
    return [c for c, _ in picked], starts


@pytest.mark.parametrize("scheme", ["s3", "http"])
def test_values_and_intervals_equal_the_local_read(scheme: str, uploaded, s3_env) -> None:
    for local, s3_url, http_url in uploaded:
        url = s3_url if scheme == "s3" else http_url
        with BigWig(local) as want, BigWig(url) as got:
            assert got.chroms == want.chroms and got.header == want.header, url
            for chrom, size in list(want.chroms.items())[:4]:
                end = min(size, 300_000)
                for default in (np.nan, 0.0):
                    np.testing.assert_array_equal(
                        _bits(got.values(chrom, 0, end, default)), _bits(want.values(chrom, 0, end, default))
                    )
                for a, b in zip(got.intervals(chrom), want.intervals(chrom)):
                    np.testing.assert_array_equal(
                        _bits(a) if a.dtype == np.float32 else a, _bits(b) if b.dtype == np.float32 else b
                    )


@pytest.mark.parametrize("scheme", ["s3", "http"])
def test_get_batch_equals_the_local_read(scheme: str, uploaded, s3_env) -> None:
    locals_ = [p for p, _, _ in uploaded]
    urls = [(s if scheme == "s3" else h) for _, s, h in uploaded]
    # A key naming the file by its whole URL, and one by its stem (the file's name without extension).
    want_collection = BigWigCollection(locals_, scale={str(locals_[0]): 2.5, locals_[1].stem: 0.5}, cache_bytes=0)
    got_collection = BigWigCollection(urls, scale={urls[0]: 2.5, locals_[1].stem: 0.5}, cache_bytes=0)
    assert got_collection.chromosomes == want_collection.chromosomes
    np.testing.assert_array_equal(got_collection.scaling_factors, want_collection.scaling_factors)
    assert got_collection.scaling_factors[0] == 2.5
    with BigWig(locals_[0]) as first:
        chroms, starts = _windows(first, 24, 896, seed=4)
    for window_size in (1, 7, 128):
        for default, dtype in ((np.nan, "float32"), (0.0, "bfloat16"), (-1.0, "float32")):
            args = (chroms, starts, starts + 896)
            kwargs = dict(window_size=window_size, default_value=default, dtype=dtype)
            np.testing.assert_array_equal(
                _bits(got_collection.get_batch(*args, **kwargs)), _bits(want_collection.get_batch(*args, **kwargs))
            )


def test_a_bucket_prefix_and_an_http_directory_are_found_like_a_folder(uploaded, s3_env) -> None:
    by_prefix = BigWigCollection(f"s3://{BUCKET}/tracks/", cache_bytes=0)
    by_directory = BigWigCollection(uploaded[0][2].rsplit("/tracks/", 1)[0] + "/tracks/", cache_bytes=0)
    assert len(by_prefix) == len(by_directory) == len(uploaded)
    assert [str(p) for p in by_prefix.bigwig_paths] == sorted(s for _, s, _ in uploaded)
    assert [str(p) for p in by_directory.bigwig_paths] == sorted(h for _, _, h in uploaded)
    assert by_prefix.track_names == [Path(s).stem for s in sorted(s for _, s, _ in uploaded)]
    not_crawled = BigWigCollection(f"s3://{BUCKET}/tracks/{_relative(uploaded[0][0], 0).split('/')[0]}/", crawl=False)
    assert len(not_crawled) == 1


def test_a_batch_fetches_each_file_once_and_the_cache_keeps_epochs_off_the_network(
    uploaded, s3_server, fault_proxy_factory, loopback_env
) -> None:
    proxy = fault_proxy_factory(s3_server)
    options = s3_server_options(s3_server, proxy.url)
    locals_ = [p for p, _, _ in uploaded][:6]
    urls = [s for _, s, _ in uploaded][:6]
    collection = BigWigCollection(urls, storage_options=options)
    local = BigWigCollection(locals_, cache_bytes=0)
    with BigWig(locals_[0]) as first:
        chroms, starts = _windows(first, 64, 1000, seed=9)
    before = proxy.requests_seen
    got = _bits(collection.get_batch(chroms, starts, starts + 1000))
    first_batch = proxy.requests_seen - before
    np.testing.assert_array_equal(got, _bits(local.get_batch(chroms, starts, starts + 1000)))
    # One round: per file, its blocks merged into few ranges (requests <= ranges, never one a block).
    assert 0 < first_batch <= 6 * 4, first_batch
    before = proxy.requests_seen
    np.testing.assert_array_equal(_bits(collection.get_batch(chroms, starts, starts + 1000)), got)
    assert proxy.requests_seen == before, "every block cached: the second epoch fetches nothing"


def test_a_batch_over_many_files_is_one_round_and_an_open_two_requests(
    uploaded, s3_server, s3_bucket, fault_proxy_factory, loopback_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = []
    original = remote.RangeFetcher.__call__
    monkeypatch.setattr(
        remote.RangeFetcher, "__call__", lambda self, jobs: rounds.append(len(jobs)) or original(self, jobs)
    )
    proxy = fault_proxy_factory(s3_server)
    options = s3_server_options(s3_server, proxy.url)
    # An open: the front (header, and the chromosome tree where it lies there), then one round
    # for what lies elsewhere, whichever order the writer laid the file out in (UCSC, pyBigWig,
    # pybigtools, ...).
    for local, url, _ in uploaded:
        before = proxy.requests_seen
        BigWig(url, storage_options=options).close()
        assert proxy.requests_seen - before <= 2, (url, proxy.requests[before:])
    for i in range(8):
        s3_server.upload(uploaded[0][0], s3_bucket, f"copy{i}.bw")
    urls = [f"s3://{s3_bucket}/copy{i}.bw" for i in range(8)]
    collection = BigWigCollection(urls, storage_options=options, cache_bytes=0)
    with BigWig(uploaded[0][0]) as first:
        chroms, starts = _windows(first, 32, 1000, seed=12)
    rounds.clear()
    collection.get_batch(chroms, starts, starts + 1000)
    assert rounds == [8], rounds  # every file in one call


def s3_server_options(s3_server, endpoint: str | None = None, **extra) -> dict:
    """storage_options in fsspec's names for s3_server (or a proxy in front of it)."""
    return {
        "key": s3_server.access_key_id,
        "secret": s3_server.secret_access_key,
        "endpoint_url": endpoint or s3_server.endpoint_url,
        "client_kwargs": {"region_name": s3_server.region},
        **extra,
    }


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["fail_next_with_503", "reset_next", "truncate_next"])
def test_transient_faults_are_retried_and_the_batch_is_exact(
    fault: str, uploaded, s3_server, fault_proxy_factory, loopback_env
) -> None:
    proxy = fault_proxy_factory(s3_server)
    local, url, _ = uploaded[0]
    collection = BigWigCollection([url], storage_options=s3_server_options(s3_server, proxy.url), cache_bytes=0)
    with BigWig(local) as first:
        chroms, starts = _windows(first, 16, 2000, seed=1)
    getattr(proxy, fault)(2, method="GET")
    opened = len(proxy.requests)  # the open's first reads carry no ETag yet: they learn it
    started = time.monotonic()
    got = collection.get_batch(chroms, starts, starts + 2000)
    assert time.monotonic() - started < 20
    want = BigWigCollection([local], cache_bytes=0).get_batch(chroms, starts, starts + 2000)
    np.testing.assert_array_equal(_bits(got), _bits(want))
    # The client resumes a cut body with a new ranged request: it too must be conditional on the
    # ETag, or an object changed in between could be spliced into one block.
    gets = [h for r, h in list(zip(proxy.requests, proxy.request_headers))[opened:] if r[0] == "GET"]
    assert len(gets) >= 2 and all("if-match" in {k.lower() for k in h} for h in gets), gets


def test_a_fault_that_outlasts_the_retries_is_an_error_naming_url_and_range(
    uploaded, s3_server, fault_proxy_factory, loopback_env
) -> None:
    proxy = fault_proxy_factory(s3_server)
    local, url, _ = uploaded[0]
    options = s3_server_options(s3_server, proxy.url, attempts=2, timeout=3)
    collection = BigWigCollection([url], storage_options=options, cache_bytes=0)
    with BigWig(local) as first:
        chroms, starts = _windows(first, 8, 2000, seed=2)
    proxy.truncate_next(1000, method="GET")
    started = time.monotonic()
    with pytest.raises(remote.RemoteReadError, match=rf"{url}: bytes \d+-\d+: .*gave up after 2 attempts"):
        collection.get_batch(chroms, starts, starts + 2000)
    assert time.monotonic() - started < 30


def test_a_stalled_server_does_not_hang_a_batch(uploaded, s3_server, fault_proxy_factory, loopback_env) -> None:
    proxy = fault_proxy_factory(s3_server)
    local, url, _ = uploaded[0]
    options = s3_server_options(s3_server, proxy.url, attempts=2, timeout=1)
    collection = BigWigCollection([url], storage_options=options, cache_bytes=0)
    with BigWig(local) as first:
        chroms, starts = _windows(first, 8, 2000, seed=3)
    proxy.stall_next(100, 30, method="GET")
    started = time.monotonic()
    with pytest.raises(remote.RemoteReadError, match=url):
        collection.get_batch(chroms, starts, starts + 2000)
    assert time.monotonic() - started < 25
    proxy.clear_faults()


# --- typed errors -------------------------------------------------------------------------------


def test_a_changed_object_is_an_error_never_a_mix(s3_server, s3_bucket, s3_env) -> None:
    tracks = real_bigwigs()
    first = tracks[0]
    second = next(p for p in tracks[1:] if p.stat().st_size != first.stat().st_size)
    url = f"s3://{s3_bucket}/t.bw"
    s3_server.upload(first, s3_bucket, "t.bw")
    collection = BigWigCollection([url], cache_bytes=64 << 20)
    old_handle = BigWig(url)
    with BigWig(first) as bw:
        window_chroms, starts = _windows(bw, 8, 500, seed=5)
        chroms = [c for c in bw.chroms if len(bw.intervals(c)[0])]
    before = _bits(collection.get_batch(window_chroms, starts, starts + 500))
    s3_server.upload(second, s3_bucket, "t.bw")
    # Every block of this batch is cached: it reads as before, all of the version opened.
    np.testing.assert_array_equal(_bits(collection.get_batch(window_chroms, starts, starts + 500)), before)
    collection.cache_clear()
    with pytest.raises(bigwig_loader.FileChangedError, match=rf"{url}: the object changed after it was opened"):
        collection.get_batch(window_chroms, starts, starts + 500)
    with pytest.raises(bigwig_loader.FileChangedError, match=url):
        old_handle.intervals(chroms[0])  # a whole chromosome with data: its blocks are fetched
    # Opened again, it is the new version, read whole.
    with BigWig(url) as new, BigWig(second) as want:
        assert new.chroms == want.chroms
        chrom2, size2 = next(iter(want.chroms.items()))
        np.testing.assert_array_equal(_bits(new.values(chrom2, 0, size2)), _bits(want.values(chrom2, 0, size2)))


def test_missing_objects_buckets_and_wrong_credentials_are_typed_errors(uploaded, s3_server, s3_env) -> None:
    with pytest.raises(FileNotFoundError, match=f"s3://{BUCKET}/tracks/nope.bw"):
        BigWig(f"s3://{BUCKET}/tracks/nope.bw")
    with pytest.raises(FileNotFoundError, match="s3://no-such-bucket-here/x.bw"):
        BigWig("s3://no-such-bucket-here/x.bw")
    with pytest.raises(FileNotFoundError, match="nope.bw"):
        BigWig(uploaded[0][2].rsplit("/", 1)[0] + "/nope.bw")
    url = uploaded[0][1]
    wrong = {"key": "AKIAWRONGWRONGWRONG0", "secret": "not-the-secret"}
    with pytest.raises(PermissionError, match=url):
        BigWig(url, storage_options=wrong)
    with pytest.raises(PermissionError, match=url):
        BigWigCollection([url], storage_options=wrong)


def test_urls_without_the_remote_extra_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "obstore", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'bigwig-loader\[remote\]'"):
        BigWig("s3://bucket/track.bw")
    with pytest.raises(ValueError, match="unsupported URL scheme 'ftp'"):
        BigWigCollection(["ftp://host/track.bw"])


def _read_in_forked_child(url: str, queue) -> None:
    try:
        BigWig(url)
        queue.put("read")
    except remote.RemoteReadError as error:
        queue.put(str(error))


def test_a_process_forked_after_remote_reads_gets_an_error_not_a_hang(uploaded, s3_env) -> None:
    url = uploaded[0][1]
    BigWig(url)  # the parent's client is in use
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_forked_child, args=(url, queue))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert "forked after its parent read remote files" in queue.get(timeout=5)


# --- configuration ------------------------------------------------------------------------------


def test_credentials_from_an_aws_profile_file(uploaded, s3_server, s3_env, monkeypatch, tmp_path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[other]\naws_access_key_id = {s3_server.access_key_id}\naws_secret_access_key = {s3_server.secret_access_key}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_PROFILE", "other")
    local, url, _ = uploaded[0]
    assert BigWig(url).chroms == BigWig(local).chroms


def test_a_remote_reference_genome_is_fetched_once_and_again_when_it_changes(
    s3_server, s3_bucket, s3_env, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("BIGWIG_LOADER_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    first = ">chr1\n" + "".join(rng.choice(list("ACGT"), 50_000)) + "\n"
    s3_server.upload(first.encode(), s3_bucket, "genome.fa")
    url = f"s3://{s3_bucket}/genome.fa"
    genome = bigwig_loader.ReferenceGenome(url)
    assert genome.sequence("chr1", 0, 50_000) == first[6:-1]
    copy = remote.local_copy(url)
    stamp = copy.stat().st_mtime_ns
    assert remote.local_copy(url).stat().st_mtime_ns == stamp, "unchanged: not fetched again"
    second = ">chr1\n" + "T" * 40_000 + "\n"
    s3_server.upload(second.encode(), s3_bucket, "genome.fa")
    assert bigwig_loader.ReferenceGenome(url).sequence("chr1", 0, 10) == "T" * 10
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")], "no temporary left behind"


def test_two_epochs_of_a_seeded_pytorch_dataset_over_s3_equal_the_local_ones(
    collection_dir: Path, s3_server, s3_bucket, s3_env, tmp_path, monkeypatch
) -> None:
    from bigwig_loader.pytorch import PytorchBigWigDataset

    monkeypatch.setenv("BIGWIG_LOADER_CACHE", str(tmp_path / "cache"))
    for path in find_bigwig_files(collection_dir):
        s3_server.upload(path, s3_bucket, f"tracks/{path.relative_to(collection_dir).as_posix()}")
    fasta = tmp_path / "g.fa"
    rng = np.random.default_rng(0)
    fasta.write_text(
        "".join(
            f">{c}\n" + "".join(rng.choice(list("ACGT"), n)) + "\n" for c, n in [("chr1", 60_000), ("chr2", 50_000)]
        )
    )
    s3_server.upload(fasta, s3_bucket, "g.fa")
    regions = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [1_000, 1_000], "end": [29_000, 49_000]})
    options = dict(sequence_length=512, window_size=4, batch_size=8, batches_per_epoch=4, seed=11, n_threads=2)

    def epochs(tracks, genome):
        dataset = PytorchBigWigDataset(regions, tracks, genome, **options)
        return [[(np.asarray(x).copy(), np.asarray(y).copy()) for x, y in dataset] for _ in range(2)]

    want = epochs(collection_dir, fasta)
    got = epochs(f"s3://{s3_bucket}/tracks/", f"s3://{s3_bucket}/g.fa")
    assert len(got) == 2 and len(got[0]) == 4
    for epoch_got, epoch_want in zip(got, want):
        for (x1, y1), (x2, y2) in zip(epoch_got, epoch_want):
            np.testing.assert_array_equal(x1, x2)
            np.testing.assert_array_equal(y1.view(np.uint32), y2.view(np.uint32))
    assert not np.array_equal(got[0][0][1], got[1][0][1]), "the second epoch draws new windows"


def test_the_cli_reads_urls(uploaded, s3_env, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BIGWIG_LOADER_CACHE", str(tmp_path / "cache"))
    local, url, http_url = uploaded[0]
    env = dict(os.environ)
    for command in (["info", url], ["validate", http_url], ["bench", url, "--batches", "2", "--batch-size", "4"]):
        done = subprocess.run(
            [sys.executable, "-m", "bigwig_loader", *command], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, (command, done.stderr)
        shown = {"info": url, "validate": "1 intact", "bench": "windows/s"}[command[0]]
        assert shown in done.stdout, done.stdout


def test_torch_distributed_ranks_read_disjoint_windows_from_s3(
    collection_dir: Path, s3_server, s3_bucket, s3_env, tmp_path: Path
) -> None:
    for path in find_bigwig_files(collection_dir):
        s3_server.upload(path, s3_bucket, f"dist/{path.relative_to(collection_dir).as_posix()}")
    here = REPO_ROOT / "tests" / "python"
    env = dict(os.environ, PYTHONPATH=str(here) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # the rendezvous on loopback
        "--nproc_per_node=2",
        str(here / "remote_distributed_worker.py"),
        f"s3://{s3_bucket}/dist/",
        str(collection_dir),
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["equal_to_local"] for r in ranks)
    windows = [set(map(tuple, r["windows"])) for r in ranks]
    assert len(windows[0]) == len(windows[1]) == 32 and windows[0].isdisjoint(windows[1])


_READ_AND_EXIT = """
import sys
import numpy as np
import bigwig_loader
collection = bigwig_loader.BigWigCollection([sys.argv[1]], cache_bytes=0)
chrom = collection.chromosomes[0]
starts = np.arange(16) * 1000
collection.get_batch([chrom] * 16, starts, starts + 1000)
"""


def test_a_process_that_read_remote_tracks_exits_cleanly(uploaded, s3_env) -> None:
    # Before the exit hook stopped the client's threads and loop, about one exit in five aborted.
    url = uploaded[0][1]
    codes = [
        subprocess.run([sys.executable, "-c", _READ_AND_EXIT, url], capture_output=True, timeout=60).returncode
        for _ in range(8)
    ]
    assert codes == [0] * 8


def test_each_scheme_gets_its_store_with_the_options_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from obstore.store import AzureStore, GCSStore, HTTPStore, S3Store

    settings = remote.settings_from({"anon": True, "client_kwargs": {"region_name": "eu-west-1"}, "timeout": 7})
    assert settings.timeout == 7 and dict(settings.config) == {"skip_signature": True, "region": "eu-west-1"}
    s3 = remote._make_store("s3", "bucket", settings)
    assert (
        isinstance(s3, S3Store) and s3.config["skip_signature"] in (True, "true") and s3.config["region"] == "eu-west-1"
    )
    gcs = remote._make_store("gs", "bucket", remote.settings_from({"skip_signature": True}))
    assert isinstance(gcs, GCSStore) and gcs.config["bucket"] == "bucket"
    azure = remote._make_store(
        "abfs", "container@account.dfs.core.windows.net", remote.settings_from({"skip_signature": True})
    )
    assert isinstance(azure, AzureStore) and azure.config["account_name"] == "account"
    assert azure.config["container_name"] == "container"
    assert isinstance(remote._make_store("https", "example.org", remote.Settings()), HTTPStore)
    # obstore's own client options pass through (and a dict value does not break the store cache).
    given = remote.settings_from({"client_options": {"user_agent": "bwl-test"}, "region": "x"})
    assert dict(given.client) == {"user_agent": "bwl-test"}
    assert remote._stores.locate("s3://bucket/k.bw", given)[1] == "k.bw"
    with pytest.raises(ValueError, match="timeout must be > 0"):
        remote.settings_from({"timeout": 0})
    with pytest.raises(TypeError, match="storage_options must be a dict"):
        remote.settings_from(["key"])
    assert remote.RemoteUrl("s3://b/dir/x.bw").parts == ("s3://b", "dir", "x.bw")
    assert remote.RemoteUrl("https://h/a/x.bigWig").stem == "x"
