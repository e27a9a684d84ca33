"""BigWigCollection: discovery, chromosome table, scale keys, intervals, and errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest

import bigwig_loader
from bigwig_loader import BigWigError
from conftest import copy_with_corrupt_data, real_bigwigs, real_file


def test_directory_is_crawled_and_sorted(collection_dir: Path) -> None:
    c = bigwig_loader.BigWigCollection(collection_dir)
    assert [p.relative_to(collection_dir).as_posix() for p in c.bigwig_paths] == ["a.bw", "b.bw", "sub/c.bw"]
    assert len(c) == 3 and c.track_names == ["a", "b", "c"]
    assert len(bigwig_loader.BigWigCollection(collection_dir, crawl=False)) == 2


def test_list_of_files_and_directories(collection_dir: Path) -> None:
    c = bigwig_loader.BigWigCollection([collection_dir / "sub", collection_dir / "a.bw", collection_dir / "a.bw"])
    assert [p.name for p in c.bigwig_paths] == ["a.bw", "c.bw"]


def test_first_n_files_and_extensions(collection_dir: Path) -> None:
    assert len(bigwig_loader.BigWigCollection(collection_dir, first_n_files=1)) == 1
    with pytest.raises(ValueError, match="no bigWig files"):
        bigwig_loader.BigWigCollection(collection_dir, file_extensions=(".bigWig",))


def test_no_files_found_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=str(tmp_path)):
        bigwig_loader.BigWigCollection(tmp_path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        bigwig_loader.BigWigCollection(tmp_path / "nope")


def test_a_bad_file_in_a_collection_is_named(tmp_path: Path) -> None:
    shutil.copy(real_file("deeptools/testA_offset1.bw"), tmp_path / "good.bw")
    shutil.copy(real_file("clodius/not_a_bigwig_hdf5.bw"), tmp_path / "bad.bw")
    with pytest.raises(BigWigError, match="bad.bw"):
        bigwig_loader.BigWigCollection(tmp_path)


def test_chromosome_table_order(tmp_path: Path) -> None:
    names = [
        "chrUn_KI270302v1",
        "chr10",
        "chrM",
        "chr2",
        "chrY",
        "chr1",
        "chrX",
        "chr1_KI270706v1_random",
        "GK000001.2",
        "chr22",
    ]
    bw = pyBigWig.open(str(tmp_path / "order.bw"), "w")
    bw.addHeader([(n, 1_000) for n in names], maxZooms=0)
    bw.addEntries(["chr1"], [0], ends=[10], values=[1.0])
    bw.close()
    c = bigwig_loader.BigWigCollection(tmp_path / "order.bw")
    assert c.chromosomes == [
        "chr1",
        "chr2",
        "chr10",
        "chr22",
        "chrX",
        "chrY",
        "chrM",
        "GK000001.2",
        "chr1_KI270706v1_random",
        "chrUn_KI270302v1",
    ]
    assert c.get_chromosomes_present_in_all_files("standard") == [
        "chr1",
        "chr2",
        "chr10",
        "chr22",
        "chrX",
        "chrY",
        "chrM",
    ]
    assert c.get_chromosomes_present_in_all_files("chr10") == ["chr10"]
    assert c.get_chromosomes_present_in_all_files(["chr2", "chrM"], exclude_chromosomes=["chrM"]) == ["chr2"]


def test_scale_keys(collection_dir: Path) -> None:
    def factors(scale):
        return bigwig_loader.BigWigCollection(collection_dir, scale=scale).scaling_factors.tolist()

    assert factors({str(collection_dir / "b.bw"): 3.0}) == [1.0, 3.0, 1.0]  # full path
    assert factors({"b.bw": 3.0}) == [1.0, 3.0, 1.0]  # trailing part with extension
    assert factors({"b": 3.0}) == [1.0, 3.0, 1.0]  # without extension
    assert factors({"sub/c": 4.0, "sub": 2.0}) == [1.0, 1.0, 4.0]  # the more specific key wins
    assert factors({"sub": 2.0}) == [1.0, 1.0, 2.0]  # parent directory
    assert factors({collection_dir.name: 5.0}) == [5.0, 5.0, 5.0]
    with pytest.warns(UserWarning, match="match no bigWig"):
        factors({"typo": 2.0})


def test_opening_reads_no_data_block(tmp_path: Path) -> None:
    """A collection whose data blocks are corrupt opens; the batch that needs them names the block."""
    collection = bigwig_loader.BigWigCollection(copy_with_corrupt_data(tmp_path))
    chrom = collection.chromosomes[0]
    with pytest.raises(BigWigError, match=r"corrupt data block .*corrupt.bw|corrupt.bw.*corrupt data block"):
        collection.get_batch([chrom], [0], [5_000])


# --- errors ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(collection_dir: Path) -> bigwig_loader.BigWigCollection:
    return bigwig_loader.BigWigCollection(collection_dir)


def test_unknown_chromosome(small: bigwig_loader.BigWigCollection) -> None:
    with pytest.raises(KeyError, match="chrNope"):
        small.get_batch(["chr1", "chrNope"], [0, 0], [10, 10])


def test_many_names_map_to_the_ids_one_name_at_a_time_gives(small: bigwig_loader.BigWigCollection) -> None:
    """Over 64 names in a numpy str array are looked up in C++ (chrom_ids_of_names): the same ids
    as the names one by one, repeats and strided views included; a name no file has is still a
    KeyError naming it, and a name that is not ASCII takes the Python path."""
    names = list(small.chromosomes)
    rng = np.random.default_rng(3)
    picked = np.asarray(names)[rng.integers(0, len(names), 300)]
    picked[100:110] = picked[99]  # a run of one name: reuses the id before it
    want = np.array([small.find_chromosome(n) for n in picked], dtype=np.uint32)
    got = small.chromosome_ids(picked)
    assert got.dtype == np.uint32 and np.array_equal(got, want)
    assert small.core_collection.chrom_ids_of_names(picked) is not None  # the C++ path answered
    assert np.array_equal(small.chromosome_ids(picked[::2]), want[::2])  # not contiguous: the dict path
    unknown = picked.astype("<U16")
    unknown[250] = "chrNope"
    assert small.core_collection.chrom_ids_of_names(unknown) is None
    with pytest.raises(KeyError, match="chrNope"):
        small.chromosome_ids(unknown)
    unknown[250] = "chr\u00e9"
    with pytest.raises(KeyError, match="chr\u00e9"):
        small.chromosome_ids(unknown)
    inner_nul = picked.astype("<U16")
    inner_nul[7] = str(picked[7]) + "\x00x"  # numpy keeps a NUL inside a name: no name has one
    assert small.core_collection.chrom_ids_of_names(inner_nul) is None
    with pytest.raises(ValueError, match="NUL"):
        small.chromosome_ids(inner_nul)
    width = picked.dtype.itemsize
    raw = np.zeros(len(picked) * width + 1, dtype=np.uint8)
    misaligned = np.frombuffer(raw.data, dtype=picked.dtype, count=len(picked), offset=1)
    raw[1:] = np.frombuffer(picked.tobytes(), dtype=np.uint8)
    assert small.core_collection.chrom_ids_of_names(misaligned) is None  # not aligned: the dict path
    assert np.array_equal(small.chromosome_ids(misaligned), want)


def test_a_request_by_id_equals_one_by_name_and_checks_its_ids(small: bigwig_loader.BigWigCollection) -> None:
    """batch_request_by_id (what a dataset's feeder calls, ids instead of names) makes the
    request batch_request makes, and refuses ids that are not chromosome_ids() and a bad window."""
    ids = small.chromosome_ids(["chr1", "chr1"])
    starts, ends = np.array([0, 5], dtype=np.int64), np.array([10, 15], dtype=np.int64)
    by_id = small.batch_request_by_id(ids, starts, ends, 1, 0.0)
    by_name = small.batch_request(["chr1", "chr1"], starts, ends)
    processor = small.processor(-1)
    assert np.array_equal(
        np.asarray(processor.load(small.core_collection, by_id)),
        np.asarray(processor.load(small.core_collection, by_name)),
    )
    with pytest.raises(ValueError, match="chromosome_ids must be"):
        small.batch_request_by_id(np.array([-1, 0]), starts, ends, 1, 0.0)
    with pytest.raises(ValueError, match="chromosome_ids must be"):
        small.batch_request_by_id(np.array([0.5, 0.0]), starts, ends, 1, 0.0)
    with pytest.raises(ValueError, match="chromosome_ids must be"):  # would wrap to a real id as uint32
        small.batch_request_by_id(np.array([2**32, 2**32], dtype=np.int64), starts, ends, 1, 0.0)
    with pytest.raises(ValueError, match="window_size must be at least 1"):
        small.batch_request_by_id(ids, starts, ends, 0, 0.0)


@pytest.mark.parametrize(
    ("chroms", "starts", "ends", "kwargs", "error", "message"),
    [
        (["chr1", "chr1"], [0, 0], [10, 20], {}, ValueError, "same length"),
        (["chr1"], [10], [10], {}, ValueError, "start 10 >= end 10"),
        (["chr1"], [20], [10], {}, ValueError, ">= end"),
        (["chr1", "chr1"], [0], [10], {}, ValueError, "differ in length"),
        ([], [], [], {}, ValueError, "at least one window"),
        (["chr1"], [0.5], [10.5], {}, TypeError, r"start\[0\] must be an integer, got 0.5"),
        (["chr1"], [0], [10], {"window_size": 11}, ValueError, "window_size 11 is larger"),
        (["chr1"], [0], [10], {"window_size": 0}, ValueError, "window_size must be at least 1"),
        (["chr1"], [0], [10], {"window_size": 2.0}, TypeError, "window_size must be an integer"),
        (["chr1"], [0], [10], {"dtype": "float16"}, ValueError, "dtype"),
        (["chr1"], [0], [10], {"track_indices": [3]}, ValueError, "track_indices"),
        (["chr1"], [0], [10], {"track_indices": [0.5]}, TypeError, "track_indices"),
        ([1], [0], [10], {}, TypeError, "chromosomes must be names"),
    ],
)
def test_bad_arguments(small, chroms, starts, ends, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        small.get_batch(chroms, starts, ends, **kwargs)


# --- intervals -------------------------------------------------------------------------


def expected_intervals(paths, chroms) -> pd.DataFrame:
    rows = []
    for chrom in chroms:
        for path in paths:
            with pyBigWig.open(str(path)) as bw:
                if chrom in bw.chroms():
                    rows += [(chrom, s, e, np.float32(v)) for s, e, v in bw.intervals(chrom) or ()]
    df = pd.DataFrame(rows, columns=["chrom", "start", "end", "value"])
    return df


def test_intervals_are_every_files_intervals(small: bigwig_loader.BigWigCollection) -> None:
    got = small.intervals()
    expected = expected_intervals(small.bigwig_paths, small.chromosomes)
    assert list(got.columns) == ["chrom", "start", "end", "value"]
    assert len(got) == len(expected)
    key = ["chrom", "start", "end", "value"]
    got_sorted = got.sort_values(key, kind="stable").reset_index(drop=True)
    exp_sorted = expected.sort_values(key, kind="stable").reset_index(drop=True)
    np.testing.assert_array_equal(got_sorted["start"], exp_sorted["start"])
    np.testing.assert_array_equal(got_sorted["end"], exp_sorted["end"])
    np.testing.assert_array_equal(got_sorted["value"].to_numpy(np.float32), exp_sorted["value"].to_numpy(np.float32))
    # contig_7 exists in b.bw only: present once, from that file alone.
    assert len(got[got.chrom == "contig_7"]) == len(expected[expected.chrom == "contig_7"])


def test_intervals_threshold_is_strict(small: bigwig_loader.BigWigCollection) -> None:
    got = small.intervals(include_chromosomes=["chrX"], threshold=1.0)
    assert (got["value"] > 1.0).all()
    everything = small.intervals(include_chromosomes=["chrX"])
    assert len(got) == int((everything["value"] > 1.0).sum())


def test_intervals_merge_keeps_the_max(small: bigwig_loader.BigWigCollection) -> None:
    raw = small.intervals(include_chromosomes=["chr2"], threshold=3.0)
    merged = small.intervals(include_chromosomes=["chr2"], threshold=3.0, merge=True, merge_allow_gap=10)
    assert len(merged) < len(raw)
    assert (merged["start"].to_numpy()[1:] > merged["end"].to_numpy()[:-1] + 10).all()
    for row in merged.itertuples():
        inside = raw[(raw.start >= row.start) & (raw.end <= row.end)]
        assert np.float32(row.value) == inside["value"].max()
    assert (
        merged["end"].sub(merged["start"]).sum()
        >= raw.drop_duplicates(["start", "end"])["end"]
        .sub(raw.drop_duplicates(["start", "end"])["start"])
        .clip(lower=0)
        .max()
    )


def test_intervals_blacklist_and_padding(small: bigwig_loader.BigWigCollection) -> None:
    blacklist = pd.DataFrame({"chrom": ["chr2", "chr2"], "start": [10_000, 30_000], "end": [20_000, 31_000]})
    before = blacklist.copy()
    got = small.intervals(include_chromosomes=["chr2"], blacklist=blacklist, blacklist_buffer=100)
    pd.testing.assert_frame_equal(blacklist, before)  # the caller's blacklist is untouched
    for s, e in [(9_900, 20_100), (29_900, 31_100)]:
        assert not ((got.start < e) & (got.end > s)).any()
    padded = small.intervals(include_chromosomes=["chr2"], padding=25)
    plain = small.intervals(include_chromosomes=["chr2"])
    assert padded["start"].min() >= 0 and padded["end"].max() <= 50_000
    np.testing.assert_array_equal(
        np.sort(padded["start"].to_numpy()), np.sort(np.maximum(plain["start"].to_numpy() - 25, 0))
    )


def test_real_collection_opens_everything() -> None:
    paths = real_bigwigs()
    c = bigwig_loader.BigWigCollection(paths)
    assert len(c) == len(paths)
    assert "chr22" in c.chromosomes and "GK000001.2" in c.chromosomes
    assert c.chromosomes.index("chr1") < c.chromosomes.index("chr22") < c.chromosomes.index("GK000001.2")


def _open_under_limit(
    directory: Path, n_files: int, soft: int, hard: int | None, then: str = ""
) -> subprocess.CompletedProcess:
    """Opens a collection `c` of n_files links to one small bigWig in a process whose open-files
    limit is (soft, hard) (hard None keeps the process's own), runs `then`, and prints the number
    of files and the soft limit."""
    source = real_file("deeptools/bamCoverage_result4.bw")
    for i in range(n_files):
        link = directory / f"t{i:05d}.bw"
        if not link.exists():
            link.symlink_to(source)
    script = (
        "import resource, sys\n"
        "from bigwig_loader import BigWigCollection\n"
        f"hard = {hard} if {hard is not None} else resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, hard))\n"
        f"c = BigWigCollection({str(directory)!r})\n"
        f"{then}"
        "print(len(c), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_a_collection_raises_a_low_soft_open_files_limit(tmp_path: Path) -> None:
    """3,000 tracks failed under the common default soft limit of 1,024 ('Too many open files');
    the soft limit may be raised up to the hard one, and the collection does so."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    files = 1_500 if hard == resource.RLIM_INFINITY else min(1_500, hard - 300)  # what this machine allows
    done = _open_under_limit(tmp_path, files, soft=files // 4, hard=None)
    assert done.returncode == 0, done.stderr
    n, soft = map(int, done.stdout.split())
    assert n == files and soft >= files


def test_beyond_the_hard_limit_the_files_take_turns_with_the_descriptors(tmp_path: Path) -> None:
    """600 files under a hard limit of 256: the collection opens, and every batch over all of them
    reads what one file reads, with at most the limit open (the least recently read files are
    closed and reopened when read)."""
    done = _open_under_limit(
        tmp_path,
        600,
        soft=256,
        hard=256,
        then=(
            "import os\n"
            "import numpy as np\n"
            "one = BigWigCollection(sorted(c.bigwig_paths)[:1])\n"
            "starts = np.arange(0, 5000, 500)\n"
            "chrom = c.chromosomes[0]\n"
            "for _ in range(3):\n"
            "    many = np.asarray(c.get_batch([chrom] * 10, starts, starts + 300, window_size=3))\n"
            "    want = np.asarray(one.get_batch([chrom] * 10, starts, starts + 300, window_size=3))\n"
            "    assert np.array_equal(many, np.repeat(want, 600, axis=2), equal_nan=True)\n"
            "    assert len(os.listdir('/proc/self/fd')) <= 256\n"
            "    c.cache_clear()\n"
        ),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["600", "256"]
