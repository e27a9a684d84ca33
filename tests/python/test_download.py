"""bigwig_loader.download and download_example_data, against a local HTTP server on 127.0.0.1
(nothing here reaches the network): resuming, checksums, offline errors, and 0.3's usage."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from bigwig_loader import config, download_example_data as examples
from bigwig_loader.download import ChecksumError, DownloadError, fetch
from http_fixture import LocalServer, closed_port_url


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


PAYLOAD = bytes(np.random.default_rng(0).integers(0, 256, 3_000_000, dtype=np.uint8))


@pytest.fixture
def server():
    with LocalServer() as s:
        s.served.files["/data.bin"] = PAYLOAD
        yield s


def test_downloads_and_checks(server, tmp_path):
    out = fetch(server.url("/data.bin"), tmp_path / "sub" / "data.bin", md5(PAYLOAD), progress=False)
    assert out == tmp_path / "sub" / "data.bin"
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "data.bin.part").exists()


def test_present_file_is_checked_not_fetched_again(server, tmp_path):
    fetch(server.url("/data.bin"), tmp_path / "data.bin", md5(PAYLOAD), progress=False)
    fetch(server.url("/data.bin"), tmp_path / "data.bin", md5(PAYLOAD), progress=False)
    assert len(server.served.requests) == 1


def test_broken_transfer_keeps_the_part_and_resumes(server, tmp_path):
    server.served.cut_after["/data.bin"] = 1_000_000
    destination = tmp_path / "data.bin"
    with pytest.raises(DownloadError, match="run again to resume") as raised:
        fetch(server.url("/data.bin"), destination, md5(PAYLOAD), progress=False)
    assert str(destination) + ".part" in str(raised.value)
    assert not destination.exists()
    part = tmp_path / "data.bin.part"
    assert part.read_bytes() == PAYLOAD[: part.stat().st_size] and 0 < part.stat().st_size < len(PAYLOAD)
    have = part.stat().st_size

    fetch(server.url("/data.bin"), destination, md5(PAYLOAD), progress=False)
    assert destination.read_bytes() == PAYLOAD
    assert server.served.requests[-1] == ("/data.bin", f"bytes={have}-")
    assert not part.exists()


def test_resume_when_the_server_ignores_ranges_starts_over(server, tmp_path):
    (tmp_path / "data.bin.part").write_bytes(b"stale bytes of an older download")
    server.served.honour_ranges = False
    fetch(server.url("/data.bin"), tmp_path / "data.bin", md5(PAYLOAD), progress=False)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_complete_part_is_finished_without_new_bytes(server, tmp_path):
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD)
    fetch(server.url("/data.bin"), tmp_path / "data.bin", md5(PAYLOAD), progress=False)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert server.served.requests == [("/data.bin", f"bytes={len(PAYLOAD)}-")]


def test_checksum_mismatch_removes_the_download(server, tmp_path):
    with pytest.raises(ChecksumError, match=f"expected {'0' * 32}.*run again"):
        fetch(server.url("/data.bin"), tmp_path / "data.bin", "0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_wrong_file_already_present_is_reported_and_left_alone(server, tmp_path):
    mine = tmp_path / "data.bin"
    mine.write_bytes(b"the user's own file")
    with pytest.raises(ChecksumError, match="remove it, or replace it"):
        fetch(server.url("/data.bin"), mine, md5(PAYLOAD), progress=False)
    assert mine.read_bytes() == b"the user's own file"
    assert server.served.requests == []


def test_offline_error_says_what_to_fetch_and_where(tmp_path):
    url = closed_port_url("/data.bin")
    destination = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as raised:
        fetch(url, destination, md5(PAYLOAD), progress=False)
    message = str(raised.value)
    assert f"fetch {url}" in message and f"put it at {destination}" in message and md5(PAYLOAD) in message
    assert isinstance(raised.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_the_url(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404.*put it at"):
        fetch(server.url("/missing.bin"), tmp_path / "x", None, progress=False)


def test_progress_bar_counts_the_bytes(server, tmp_path, capsys):
    server.served.cut_after["/data.bin"] = 500_000
    with pytest.raises(DownloadError):
        fetch(server.url("/data.bin"), tmp_path / "data.bin", md5(PAYLOAD), progress=True)
    fetch(server.url("/data.bin"), tmp_path / "data.bin", md5(PAYLOAD), progress=True)
    err = capsys.readouterr().err
    assert "data.bin" in err and "2.86M/2.86M" in err  # 3,000,000 bytes in MiB, resumed to the end


# --- config ------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.upper().startswith("BIGWIG_LOADER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return monkeypatch


def test_config_defaults_live_in_the_cache(clean_env, tmp_path):
    root = tmp_path / "xdg" / "bigwig-loader"
    assert config.cache_dir == root
    assert config.bigwig_dir == root / "example_data" / "bigwig"
    assert config.reference_genome == root / "example_data" / "GRCh38_no_alt_analysis_set_GCA_000001405.15.fasta"
    assert config.example_positions == root / "example_data" / "some_positions.tsv"
    assert config.demo_dir == root / "demo"
    assert config.reference_genome_url.startswith("https://www.encodeproject.org/")


def test_config_environment_overrides(clean_env, tmp_path):
    clean_env.setenv("BIGWIG_LOADER_CACHE_DIR", str(tmp_path / "cache"))
    assert config.demo_dir == tmp_path / "cache" / "demo"
    clean_env.setenv("BIGWIG_LOADER_EXAMPLE_DATA_DIR", str(tmp_path / "ex"))
    assert config.bigwig_dir == tmp_path / "ex" / "bigwig"  # derived paths follow
    clean_env.setenv("BIGWIG_LOADER_BIGWIG_DIR", "~/tracks")
    assert config.bigwig_dir == Path.home() / "tracks"
    clean_env.setenv("bigwig_loader_reference_genome", "$XDG_CACHE_HOME/hg38.fa")  # 0.3's spelling
    assert config.reference_genome == tmp_path / "xdg" / "hg38.fa"
    clean_env.setenv("BIGWIG_LOADER_EXAMPLE_POSITIONS", str(tmp_path / "p.tsv"))
    assert config.example_positions == tmp_path / "p.tsv"
    assert str(tmp_path / "p.tsv") in str(config.settings())


def test_config_assignment_wins_and_derived_paths_follow(clean_env, tmp_path):
    clean_env.setattr(config, "example_data_dir", tmp_path / "mine", raising=False)
    assert config.example_data_dir == tmp_path / "mine"
    assert config.bigwig_dir == tmp_path / "mine" / "bigwig"
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        config.nonsense  # noqa: B018


# --- the example data, served locally ----------------------------------------------------


def _bigwig_bytes(path: Path, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", 20_000), ("chr2", 10_000)], maxZooms=0)
    starts = np.arange(0, 20_000, 50)
    bw.addEntries(
        ["chr1"] * len(starts), starts.tolist(), ends=(starts + 50).tolist(), values=rng.random(len(starts)).tolist()
    )
    bw.close()
    return path.read_bytes()


@pytest.fixture
def example_server(clean_env, tmp_path, monkeypatch):
    """The example files made small and served locally; config pointed at tmp_path."""
    fasta = b">chr1\n" + b"ACGT" * 5_000 + b"\n>chr2\n" + b"GATTACA" * 1_000 + b"NNN\n"
    positions = b"chr\tcenter\nchr1\t5000\nchr1\t12000\nchr2\t3000\n"
    with LocalServer() as server:
        server.served.files["/genome.fasta.gz"] = gzip.compress(fasta)
        server.served.files["/positions.tsv"] = positions
        files = {}
        for i, name in enumerate(examples.EXAMPLE_FILES):
            data = _bigwig_bytes(tmp_path / f"source{i}.bw", i)
            server.served.files[f"/{name}"] = data
            files[name] = examples.RemoteFile(server.url(f"/{name}"), md5(data))
        monkeypatch.setattr(examples, "EXAMPLE_FILES", files)
        monkeypatch.setattr(
            examples, "EXAMPLE_POSITIONS", examples.RemoteFile(server.url("/positions.tsv"), md5(positions))
        )
        clean_env.setenv("BIGWIG_LOADER_EXAMPLE_DATA_DIR", str(tmp_path / "example_data"))
        clean_env.setenv("BIGWIG_LOADER_REFERENCE_GENOME_URL", server.url("/genome.fasta.gz"))
        clean_env.setenv("BIGWIG_LOADER_REFERENCE_GENOME_CHECKSUM", md5(fasta))
        yield server, fasta


def test_download_example_data_as_0_3_uses_it(example_server):
    server, fasta = example_server
    examples.download_example_data(progress=False)
    assert config.reference_genome.read_bytes() == fasta
    assert config.reference_genome.with_name(config.reference_genome.name + ".gz").exists()
    assert sorted(p.name for p in config.bigwig_dir.iterdir()) == sorted(examples.EXAMPLE_FILES)
    positions = pd.read_csv(config.example_positions, sep="\t")
    assert list(positions.columns) == ["chr", "center"]

    # 0.3's README and examples, unchanged:
    import torch

    from bigwig_loader.pytorch import PytorchBigWigDataset

    dataset = PytorchBigWigDataset(
        regions_of_interest=pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [20_000]}),
        collection=config.bigwig_dir,
        reference_genome_path=config.reference_genome,
        sequence_length=1000,
        center_bin_to_predict=500,
        batch_size=4,
        batches_per_epoch=2,
        seed=0,
        device="cpu",
    )
    batches = list(torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=0))
    assert len(batches) == 2 and batches[0][0].shape == (4, 1000, 4) and batches[0][1].shape == (4, 500, 3)

    # everything present: nothing is fetched again
    before = len(server.served.requests)
    examples.download_example_data(progress=False)
    assert len(server.served.requests) == before


def test_reference_genome_with_the_wrong_checksum(example_server, clean_env):
    clean_env.setenv("BIGWIG_LOADER_REFERENCE_GENOME_CHECKSUM", "f" * 32)
    with pytest.raises(ChecksumError, match="not the expected genome"):
        examples.get_reference_genome(progress=False)
    assert not config.reference_genome.exists()
    assert not config.reference_genome.with_name(config.reference_genome.name + ".part").exists()


def test_reference_genome_from_a_gz_put_there_by_hand(example_server, clean_env):
    server, fasta = example_server
    target = config.reference_genome
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".gz").write_bytes(gzip.compress(fasta))
    assert examples.get_reference_genome(progress=False).read_bytes() == fasta
    assert server.served.requests == []


def test_damaged_gz_is_a_clear_error(example_server):
    target = config.reference_genome
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".gz").write_bytes(b"not gzip at all")
    with pytest.raises(DownloadError, match="cannot unpack it.*remove it"):
        examples.get_reference_genome(progress=False)
    assert not target.exists()


def test_example_files_offline(clean_env, tmp_path, monkeypatch):
    monkeypatch.setattr(
        examples, "EXAMPLE_FILES", {"a.bigWig": examples.RemoteFile(closed_port_url("/a.bigWig"), "0" * 32)}
    )
    with pytest.raises(DownloadError, match=f"put it at {tmp_path / 'bw' / 'a.bigWig'}"):
        examples.get_example_bigwigs_files(tmp_path / "bw", progress=False)
