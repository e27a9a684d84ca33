"""ReferenceGenome (the C++ indexed FASTA reader) and one-hot encoding."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import bigwig_loader
from bigwig_loader import ReferenceGenome, one_hot
from conftest import real_file


def parse_fasta(path: Path) -> dict[str, str]:
    """The plain-Python reading of a FASTA file the C++ reader must agree with."""
    records: dict[str, list[str]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            records[name] = []
        elif name is not None:
            records[name].append(line.strip())
    return {k: "".join(v) for k, v in records.items()}


@pytest.fixture
def fasta_copy(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A copy in a writable directory, so the reader can write its .fai there."""
    source = real_file(request.param)
    target = tmp_path / source.name
    shutil.copy(source, target)
    return target


@pytest.mark.parametrize(
    "fasta_copy", ["deeptools/phiX.fasta", "deeptools/testA.fa", "pyfaidx/chr17.hg19.part.fa"], indirect=True
)
def test_reads_every_range_like_a_plain_parser(fasta_copy: Path) -> None:
    expected = parse_fasta(fasta_copy)
    genome = ReferenceGenome(fasta_copy)
    assert genome.chrom_sizes == {k: len(v) for k, v in expected.items()}
    assert Path(str(fasta_copy) + ".fai").exists(), "the index is written beside the FASTA"
    rng = np.random.default_rng(0)
    for name, seq in expected.items():
        assert genome.sequence(name, 0, len(seq)) == seq
        for _ in range(50):
            start = int(rng.integers(0, len(seq)))
            end = int(rng.integers(start, len(seq) + 1))
            assert genome.sequence(name, start, end) == seq[start:end]
    # A second open uses the .fai it wrote (once the first reader is gone: open ones are shared).
    del genome
    assert ReferenceGenome(fasta_copy)._fasta.built_index is False


def test_wrapped_crlf_lowercase_and_batches(tmp_path: Path) -> None:
    path = tmp_path / "mixed.fa"
    seq1 = "ACGTacgtNNRYKMSWBDHV" * 7 + "ACG"
    seq2 = "ttttGGGGcccc"
    lines = [">one description here"] + [seq1[i : i + 11] for i in range(0, len(seq1), 11)] + [">two"]
    lines += [seq2[i : i + 5] for i in range(0, len(seq2), 5)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    genome = ReferenceGenome(path)
    assert genome.chrom_sizes == {"one": len(seq1), "two": len(seq2)}
    assert genome.sequence("one", 3, 100) == seq1[3:100]
    bases = genome.fetch(["two", "one", "two"], [0, 10, 7], 5)
    assert bases.dtype == np.uint8 and bases.shape == (3, 5)
    assert [b.tobytes().decode() for b in bases] == [seq2[0:5], seq1[10:15], seq2[7:12]]


def test_irregular_line_widths_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.fa"
    path.write_text(">x\nACGT\nAC\nACGT\n")
    with pytest.raises(bigwig_loader.BigWigError.__mro__[1], match="different widths.*line 4"):
        ReferenceGenome(path)


def test_ranges_and_names_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "small.fa"
    path.write_text(">x\nACGTACGT\n")
    genome = ReferenceGenome(path)
    with pytest.raises(KeyError, match="nope"):
        genome.fetch(["nope"], [0], 2)
    with pytest.raises(ValueError, match="outside x"):
        genome.fetch(["x"], [7], 2)
    with pytest.raises(ValueError, match="outside x"):
        genome.fetch(["x"], [-1], 2)
    with pytest.raises(FileNotFoundError):
        ReferenceGenome(tmp_path / "missing.fa")


def test_stale_index_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "s.fa"
    path.write_text(">x\nACGT\n")
    ReferenceGenome(path)
    fai = Path(str(path) + ".fai")
    path.write_text(">y\nACGTAC\n")
    os.utime(fai, (1, 1))  # older than the FASTA
    assert ReferenceGenome(path).chrom_sizes == {"y": 6}


def test_an_index_older_by_less_than_a_second_is_stale(tmp_path: Path) -> None:
    """Modification times are compared to the nanosecond: a FASTA rewritten within the second
    its .fai was written is indexed again (compared in whole seconds, it was read through the
    old index)."""
    path = tmp_path / "s.fa"
    path.write_text(">x\nACGT\n")
    ReferenceGenome(path)
    path.write_text(">y\nACGTAC\n")
    second = 1_700_000_000 * 10**9
    os.utime(Path(str(path) + ".fai"), ns=(second + 100_000_000, second + 100_000_000))
    os.utime(path, ns=(second + 600_000_000, second + 600_000_000))
    assert ReferenceGenome(path).chrom_sizes == {"y": 6}


WEIGHTS = {
    "A": [1, 0, 0, 0],
    "C": [0, 1, 0, 0],
    "G": [0, 0, 1, 0],
    "T": [0, 0, 0, 1],
    "R": [0.5, 0, 0.5, 0],
    "Y": [0, 0.5, 0, 0.5],
    "K": [0, 0, 0.5, 0.5],
    "M": [0.5, 0.5, 0, 0],
    "S": [0, 0.5, 0.5, 0],
    "W": [0.5, 0, 0, 0.5],
    "B": [0, 0.333, 0.333, 0.333],
    "D": [0.333, 0, 0.333, 0.333],
    "H": [0.333, 0.333, 0, 0.333],
    "V": [0.333, 0.333, 0.333, 0],
    "N": [0.25, 0.25, 0.25, 0.25],
}


def test_one_hot_weights_for_every_iupac_letter_and_lowercase() -> None:
    letters = "".join(WEIGHTS)
    text = letters + letters.lower() + "-X."
    bases = np.frombuffer(text.encode(), dtype=np.uint8).reshape(1, -1)
    encoded = np.asarray(one_hot(bases))
    assert encoded.shape == (1, len(text), 4) and encoded.dtype == np.float32
    expected = np.array([WEIGHTS[c.upper()] for c in letters + letters.lower()] + [[0, 0, 0, 0]] * 3, dtype=np.float32)
    np.testing.assert_array_equal(encoded[0], expected)


def test_one_hot_bfloat16_and_uint8() -> None:
    bases = np.frombuffer(b"ACGTNRB" * 3, dtype=np.uint8).reshape(3, 7)
    f32 = np.asarray(one_hot(bases))
    bf16 = torch.from_dlpack(one_hot(bases, "bfloat16"))
    assert bf16.dtype == torch.bfloat16
    assert torch.equal(bf16, torch.from_numpy(f32.copy()).to(torch.bfloat16))
    hard = np.asarray(one_hot(bases, "uint8"))
    assert hard.dtype == np.uint8
    np.testing.assert_array_equal(hard, (f32 == 1.0).astype(np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        one_hot(bases, "float16")


def test_usable_windows_by_name_and_by_record_id_agree_with_a_python_reading(tmp_path: Path) -> None:
    """fetch_usable (names) and fetch_usable_records (ids, what the dataset's feeder calls):
    the windows inside their sequence with at most the fraction of unknown bases, in order,
    with their bases, judged as plain Python judges them (the limit inclusive)."""
    rng = np.random.default_rng(3)
    letters = np.array(list("ACGTNacgtnRY"))
    records = {"x": "".join(rng.choice(letters, 700)), "y": "".join(rng.choice(letters, 90))}
    path = tmp_path / "g.fa"
    path.write_text(
        "".join(f">{k}\n" + "\n".join(v[i : i + 60] for i in range(0, len(v), 60)) + "\n" for k, v in records.items())
    )
    genome = ReferenceGenome(path)
    names = rng.choice(["x", "y"], 400)
    length = 40
    starts = rng.integers(-50, 720, 400)
    for fraction in (0.0, 0.25, 0.5, 1.0):
        expected = [
            i
            for i, (c, s) in enumerate(zip(names, starts))
            if 0 <= s
            and s + length <= len(records[c])
            and sum(b not in "ACGTacgt" for b in records[c][s : s + length]) / length <= fraction
        ]
        idx, bases = genome.fetch_usable(names, starts, length, fraction)
        assert idx.tolist() == expected
        assert [row.tobytes().decode() for row in bases] == [
            records[names[i]][starts[i] : starts[i] + length] for i in expected
        ]
        by_id, bases_by_id = genome.fetch_usable_records(genome.record_ids(names), starts, length, fraction)
        assert by_id.tolist() == expected and np.array_equal(bases_by_id, bases)
    assert genome.record_ids(["y", "x", "y"]).tolist() == [1, 0, 1]
    with pytest.raises(KeyError, match=r"\['nope'\] are not in"):
        genome.record_ids(["x", "nope"])
    with pytest.raises(ValueError, match="record id 2 is not one of the 2 records"):
        genome.fetch_usable_records(np.array([2]), np.array([0]), 4, 1.0)


def test_a_fasta_truncated_while_open_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """Bases are read from a memory map; a file cut short under it (a second job rewriting the
    reference) raises a ValueError naming the file on the next read past the cut, and the process
    lives on (a read of the mapping past the end of a file is a SIGBUS)."""
    path = tmp_path / "g.fa"
    path.write_text(">x\n" + "".join("ACGT"[i % 4] * 60 + "\n" for i in range(1_000)))
    genome = ReferenceGenome(path)
    assert genome.sequence("x", 59_000, 59_004) == "TTTT"  # line 983
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(ValueError, match=r"truncated while reading FASTA bases.*"):
        genome.sequence("x", 59_000, 59_004)
    with pytest.raises(ValueError, match="g.fa"):
        genome.fetch_usable(["x"], np.array([59_000]), 4, 1.0)
    assert genome.sequence("x", 0, 4) == "AAAA"


def test_genomes_of_one_unchanged_file_share_one_reader(tmp_path: Path) -> None:
    """One reader (and memory map) per FASTA file in the process; a changed file gets a new one."""
    path = tmp_path / "s.fa"
    path.write_text(">x\nACGT\n")
    first, second = ReferenceGenome(path), ReferenceGenome(str(path))
    assert first._fasta is second._fasta
    path.write_text(">x\nACGTTT\n")
    later = os.stat(path).st_mtime_ns + 10**10  # past the .fai, whatever the clock's tick
    os.utime(path, ns=(later, later))
    changed = ReferenceGenome(path)
    assert changed._fasta is not first._fasta and changed.chrom_sizes == {"x": 6}
    assert first.sequence("x", 0, 4) == "ACGT"


def test_usable_windows_refuse_what_would_make_them_wrong(tmp_path: Path) -> None:
    """A NaN fraction kept every window (no comparison with NaN is true); arrays of two lengths
    or dimensions; a length longer than every record reads nothing (and allocates nothing)."""
    path = tmp_path / "g.fa"
    path.write_text(">x\nACGTNNNN\n")
    genome = ReferenceGenome(path)
    ids = genome.record_ids(["x", "x"])
    for bad in (float("nan"), -0.5, 2.0):
        with pytest.raises(ValueError, match=r"max_unknown_fraction must be a number in \[0, 1\]"):
            genome.fetch_usable_records(ids, np.array([0, 4]), 4, bad)
    with pytest.raises(ValueError, match="one length"):
        genome.fetch_usable_records(ids, np.array([0]), 4, 1.0)
    idx, bases = genome.fetch_usable_records(ids, np.array([0, 4]), 10**12, 1.0)
    assert idx.size == 0 and bases.shape == (0, 10**12)
    with pytest.raises(ValueError, match="length must not be negative"):
        genome.fetch_usable_records(ids, np.array([0, 4]), -1, 1.0)


def test_a_fasta_cut_inside_the_page_of_a_window_is_an_error_not_zeros(tmp_path: Path) -> None:
    """The page holding the new end of a truncated file stays mapped and reads as zeros past it:
    those must not come back as bases."""
    path = tmp_path / "g.fa"
    path.write_text(">x\n" + "".join("ACGT"[i % 4] * 60 + "\n" for i in range(1_000)))
    genome = ReferenceGenome(path)
    assert genome.sequence("x", 30_000, 30_020) == "AAAAAAAAAAAAAAAAAAAA"  # line 500
    with open(path, "r+b") as f:
        f.truncate(3 + 500 * 61 + 10)  # in the middle of the window
    with pytest.raises(ValueError, match="truncated while reading FASTA bases"):
        genome.sequence("x", 30_000, 30_020)
    assert genome.sequence("x", 30_000, 30_010) == "A" * 10


def wrapped(bases: str, width: int) -> str:
    return "".join(bases[i : i + width] + "\n" for i in range(0, len(bases), width))


@pytest.mark.parametrize("new_width", [50, 70, 10_000])
def test_a_stale_fai_with_an_older_mtime_is_rebuilt_not_trusted(tmp_path: Path, new_width: int) -> None:
    """A FASTA re-wrapped after its .fai was written, keeping an older modification time (cp -p,
    rsync -t), was read through the old index: bases with newlines inside, no error."""
    rng = np.random.default_rng(5)
    x = "".join(rng.choice(list("ACGT"), 5_000))
    y = "".join(rng.choice(list("ACGTN"), 3_001))
    path = tmp_path / "g.fa"
    path.write_text(">x\n" + wrapped(x, 60) + ">y desc\n" + wrapped(y, 60))
    assert ReferenceGenome(path).sequence("y", 100, 200) == y[100:200]  # writes g.fa.fai
    fai = Path(str(path) + ".fai")
    old_index = fai.read_text()
    path.write_text(">x\n" + wrapped(x, new_width) + ">y desc\n" + wrapped(y, new_width))
    stamp = fai.stat().st_mtime_ns - 10**9
    os.utime(path, ns=(stamp, stamp))  # as cp -p leaves it: older than the index
    genome = ReferenceGenome(path)
    assert genome.sequence("x", 0, 5_000) == x
    assert genome.sequence("y", 2_900, 3_001) == y[2_900:]
    assert genome._fasta.built_index
    assert fai.read_text() != old_index  # the index beside it now matches the file


def test_a_current_fai_is_still_used(tmp_path: Path) -> None:
    path = tmp_path / "g.fa"
    path.write_text(">x\n" + wrapped("ACGT" * 100, 60))
    assert ReferenceGenome(path)._fasta.built_index
    os.utime(path, ns=(1, 1))  # a new reader (another mtime), same bytes: the index matches
    again = ReferenceGenome(path)
    assert not again._fasta.built_index and again.sequence("x", 55, 65) == ("ACGT" * 100)[55:65]


def test_a_fasta_truncated_under_a_dataloader_worker_names_the_file(tmp_path: Path) -> None:
    """torch's DataLoader workers install a SIGBUS handler that ends the process; a FASTA cut
    short under a worker killed it ("killed by signal: Bus error"), naming no file. The dataset
    puts the guard back in front in the worker: the reader's error, naming the FASTA, reaches the
    training loop."""
    import pandas as pd
    import pyBigWig
    import torch

    from bigwig_loader.pytorch import PytorchBigWigDataset

    size = 4_000_000
    path = tmp_path / "big.fa"
    path.write_text(">chr1\n" + wrapped("ACGT" * (size // 4), 100))
    track = tmp_path / "t.bw"
    bw = pyBigWig.open(str(track), "w")
    bw.addHeader([("chr1", size)], maxZooms=0)
    bw.addEntries(["chr1"], [0], ends=[size], values=[1.0])
    bw.close()
    dataset = PytorchBigWigDataset(
        pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [size]}),
        track,
        path,
        sequence_length=1_000,
        batch_size=8,
        batches_per_epoch=100_000,
        n_threads=1,
        queue_size=1,
        seed=0,
    )
    dataset.set_epoch(0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=1)
    batches = iter(loader)
    next(batches)
    with open(path, "r+b") as f:
        f.truncate(4_096)
    with pytest.raises(ValueError, match=rf"{path}.*truncated"):
        for _ in range(10_000):
            next(batches)
    del batches
