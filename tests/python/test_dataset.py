"""BigWigDataset and PytorchBigWigDataset against get_batch and the FASTA."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import bigwig_loader
from bigwig_loader import BigWigDataset, ReferenceGenome, one_hot
from conftest import real_file

PHIX = "deeptools/phiX.fasta"
PHIX_TRACK = "deeptools/bamCoverage_result4.bw"
PHIX_REGIONS = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})


def phix_dataset(**kwargs) -> BigWigDataset:
    options = dict(
        sequence_length=200,
        center_bin_to_predict=100,
        batch_size=8,
        batches_per_epoch=6,
        seed=3,
        n_threads=2,
        return_batch_objects=True,
    )
    options.update(kwargs)
    return BigWigDataset(PHIX_REGIONS, real_file(PHIX_TRACK), real_file(PHIX), **options)


def expected_sequences(batch, sequence_length: int, center_bin: int) -> np.ndarray:
    genome = ReferenceGenome(real_file(PHIX))
    seq_starts = np.asarray(batch.starts) + center_bin // 2 - sequence_length // 2
    return np.asarray(one_hot(genome.fetch(batch.chromosomes, seq_starts, sequence_length)))


def test_values_equal_get_batch_and_sequences_equal_the_fasta() -> None:
    ds = phix_dataset(window_size=10, default_value=np.nan)
    collection = ds.collection
    batches = list(ds)
    assert len(batches) == 6 == len(ds)
    for batch in batches:
        assert batch.sequences.shape == (8, 200, 4) and batch.values.shape == (8, 10, 1)
        np.testing.assert_array_equal(batch.ends - batch.starts, 100)
        want = np.from_dlpack(
            collection.get_batch(batch.chromosomes, batch.starts, batch.ends, window_size=10, default_value=np.nan)
        )
        np.testing.assert_array_equal(batch.values, want)
        np.testing.assert_array_equal(batch.sequences, expected_sequences(batch, 200, 100))


def test_tuples_by_default_and_with_sub_sampled_tracks(collection_dir: Path, tmp_path: Path) -> None:
    plain = next(iter(phix_dataset(return_batch_objects=False)))
    assert isinstance(plain, tuple) and len(plain) == 2
    fasta = tmp_path / "g.fa"
    rng = np.random.default_rng(0)
    sizes = {"chr1": 60_000, "chr2": 50_000}
    fasta.write_text("".join(f">{c}\n" + "".join(rng.choice(list("ACGT"), n)) + "\n" for c, n in sizes.items()))
    regions = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [1_000, 1_000], "end": [29_000, 49_000]})
    ds = BigWigDataset(
        regions,
        collection_dir,
        fasta,
        sequence_length=256,
        batch_size=4,
        super_batch_size=12,
        batches_per_epoch=6,
        sub_sample_tracks=2,
        seed=1,
        n_threads=2,
    )
    items = list(ds)
    assert len(items) == 6
    for sequences, values, tracks, names in items:
        assert values.shape == (4, 256, 2) and len(tracks) == 2 and len(names) == 2
    # One track subset per super-batch of 12 windows = 3 batches.
    assert items[0][2] == items[1][2] == items[2][2]


def test_same_seed_same_batches_whatever_the_threads() -> None:
    one = [(b.chromosomes, b.starts.copy(), b.sequences.copy(), b.values.copy()) for b in phix_dataset(n_threads=1)]
    many = [(b.chromosomes, b.starts.copy(), b.sequences.copy(), b.values.copy()) for b in phix_dataset(n_threads=6)]
    for a, b in zip(one, many, strict=True):
        assert a[0] == b[0]
        for x, y in zip(a[1:], b[1:]):
            np.testing.assert_array_equal(x, y)
    other = [b.starts.copy() for b in phix_dataset(seed=4)]
    assert any(not np.array_equal(x, y[1]) for x, y in zip(other, one))


def test_the_windows_of_a_seed_do_not_depend_on_how_draws_are_split() -> None:
    """The feeder draws centres 512 at a time and the sampler fills its buffer in pieces; the
    windows (and the jitter and strand draws) of a seed must be those of one draw, whatever the
    pieces: the same batches for any buffer and super-batch size. (A seed's windows stayed the
    same when the draw sizes changed; this keeps them so.)"""

    def windows(**kwargs):
        ds = phix_dataset(jitter=40, reverse_complement=True, batches_per_epoch=12, **kwargs)
        return [(b.chromosomes, b.starts.tolist(), b.flipped.tolist()) for b in ds]

    reference = windows(position_sampler_buffer_size=100_000)
    assert windows(position_sampler_buffer_size=7) == reference
    assert windows(position_sampler_buffer_size=100_000, super_batch_size=24) == reference


def test_ranks_draw_disjoint_parts_of_one_stream() -> None:
    centres = [("phiX174", 500 + 7 * i) for i in range(600)]  # distinct centres: disjointness is exact
    starts = {}
    for rank in (0, 1):
        ds = phix_dataset(custom_position_sampler=centres, rank=rank, world_size=2, batches_per_epoch=4)
        starts[rank] = [int(s) for b in ds for s in b.starts]
    assert set(starts[0]).isdisjoint(starts[1])
    single = [int(s) for b in phix_dataset(custom_position_sampler=centres, batches_per_epoch=8) for s in b.starts]
    assert starts[0] == single[0::2] and starts[1] == single[1::2]
    a = [b.starts.copy() for b in phix_dataset(rank=0, world_size=2)]
    b = [b.starts.copy() for b in phix_dataset(rank=1, world_size=2)]
    assert not any(np.array_equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="rank"):
        phix_dataset(rank=2, world_size=2)


def test_set_epoch_changes_the_stream_deterministically() -> None:
    ds = phix_dataset()
    first = [b.starts.copy() for b in ds]
    second = [b.starts.copy() for b in ds]  # a new iteration is the next epoch (0.3's sampler carries on)
    ds.set_epoch(1)
    again = [b.starts.copy() for b in ds]
    ds.set_epoch(0)
    back = [b.starts.copy() for b in ds]
    assert all(np.array_equal(x, y) for x, y in zip(second, again))
    assert all(np.array_equal(x, y) for x, y in zip(first, back))
    assert not all(np.array_equal(x, y) for x, y in zip(first, second))


def test_repeat_same_positions_gives_the_same_windows_every_epoch() -> None:
    """0.3's meaning of repeat_same_positions (a fixed validation set): every iteration, and any
    set_epoch, yields the same windows; they used to change with the epoch's seed."""
    ds = phix_dataset(repeat_same_positions=True, position_sampler_buffer_size=1_000)
    first = [b.starts.tolist() for b in ds]
    assert [b.starts.tolist() for b in ds] == first
    ds.set_epoch(7)
    assert [b.starts.tolist() for b in ds] == first
    assert len({s for starts in first for s in starts}) > 40  # 48 windows of a 1,000-centre buffer


def test_flipped_windows_equal_the_reverse_complemented_forward_read(collection_dir: Path, tmp_path: Path) -> None:
    fasta = tmp_path / "g.fa"
    rng = np.random.default_rng(5)
    fasta.write_text(">chr2\n" + "".join(rng.choice(list("ACGTNRYacgt"), 50_000)) + "\n")
    regions = pd.DataFrame({"chrom": ["chr2"], "start": [2_000], "end": [48_000]})
    ds = BigWigDataset(
        regions,
        collection_dir,
        fasta,
        sequence_length=120,
        center_bin_to_predict=60,
        window_size=3,
        batch_size=16,
        batches_per_epoch=5,
        seed=2,
        reverse_complement=True,
        strand_pairs=[(0, 2)],
        maximum_unknown_bases_fraction=1.0,
        return_batch_objects=True,
        n_threads=2,
    )
    genome = ReferenceGenome(fasta)
    flipped_any = False
    for batch in ds:
        flip = batch.flipped
        flipped_any |= bool(flip.any())
        forward_values = np.from_dlpack(
            ds.collection.get_batch(batch.chromosomes, batch.starts, batch.ends, window_size=3)
        )
        forward_seq = np.asarray(one_hot(genome.fetch(batch.chromosomes, batch.starts + 30 - 60, 120)))
        for w in range(len(batch)):
            if flip[w]:
                np.testing.assert_array_equal(batch.sequences[w], forward_seq[w, ::-1, ::-1])
                np.testing.assert_array_equal(batch.values[w], forward_values[w, ::-1][:, [2, 1, 0]])
            else:
                np.testing.assert_array_equal(batch.sequences[w], forward_seq[w])
                np.testing.assert_array_equal(batch.values[w], forward_values[w])
    assert flipped_any


def test_jitter_shifts_sequence_and_values_alike() -> None:
    centres = [("phiX174", 2_000)] * 400
    ds = phix_dataset(custom_position_sampler=centres, jitter=7, batches_per_epoch=5)
    shifts = set()
    for batch in ds:
        shift = np.asarray(batch.starts) - (2_000 - 50)
        assert np.all(np.abs(shift) <= 7)
        shifts |= set(shift.tolist())
        np.testing.assert_array_equal(batch.sequences, expected_sequences(batch, 200, 100))
        want = np.from_dlpack(ds.collection.get_batch(batch.chromosomes, batch.starts, batch.ends))
        np.testing.assert_array_equal(batch.values, want)
    assert len(shifts) > 5


def test_moving_average_is_along_the_length_axis() -> None:
    ds = phix_dataset(moving_average_window_size=5)
    batch = next(iter(ds))
    raw = np.from_dlpack(ds.collection.get_batch(batch.chromosomes, batch.starts, batch.ends)).astype(np.float64)
    padded = np.pad(raw, ((0, 0), (2, 2), (0, 0)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 5, axis=1)
    expected = np.nanmean(windows, axis=-1).astype(np.float32)
    np.testing.assert_allclose(batch.values, expected, rtol=1e-6)
    assert batch.values.dtype == np.float32


def test_a_region_on_a_chromosome_no_track_has_is_refused_when_the_dataset_is_made(tmp_path: Path) -> None:
    """The FASTA has 'other', no bigWig file does: the dataset was made and failed mid-training
    (KeyError at the first batch that drew a window there, after 14 batches in the issue)."""
    fasta = tmp_path / "two.fa"
    rng = np.random.default_rng(1)
    fasta.write_text("".join(f">{c}\n" + "".join(rng.choice(list("ACGT"), 5_386)) + "\n" for c in ("phiX174", "other")))
    regions = pd.DataFrame({"chrom": ["phiX174", "other"], "start": [0, 0], "end": [5_386, 100]})
    with pytest.raises(
        ValueError, match=r"region 1 of regions_of_interest is on 'other', which no file of the collection"
    ):
        BigWigDataset(regions, real_file(PHIX_TRACK), fasta, sequence_length=200, batch_size=8, seed=0)
    with pytest.raises(ValueError, match=r"'other', which no file of the collection has \(1 file\)"):
        bigwig_loader.PytorchBigWigDataset(regions, real_file(PHIX_TRACK), fasta, sequence_length=200, batch_size=8)


def test_regions_too_small_for_one_batch() -> None:
    tiny = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [1_000]})
    with pytest.raises(ValueError, match="too small for one batch"):
        BigWigDataset(tiny, real_file(PHIX_TRACK), real_file(PHIX), sequence_length=200, batch_size=8)


def test_pytorch_dataset_yields_tensors_through_a_dataloader() -> None:
    ds = bigwig_loader.PytorchBigWigDataset(
        PHIX_REGIONS,
        real_file(PHIX_TRACK),
        real_file(PHIX),
        sequence_length=200,
        batch_size=8,
        batches_per_epoch=3,
        seed=0,
        dtype="bfloat16",
    )
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=0)
    items = list(loader)
    assert len(items) == 3
    for sequences, values in items:
        assert sequences.dtype == torch.float32 and values.dtype == torch.bfloat16  # dtype is the values' only
        assert sequences.shape == (8, 200, 4) and values.shape == (8, 200, 1)
    ds32 = bigwig_loader.PytorchBigWigDataset(
        PHIX_REGIONS,
        real_file(PHIX_TRACK),
        real_file(PHIX),
        sequence_length=200,
        batch_size=8,
        batches_per_epoch=3,
        seed=0,
    )
    for (s16, v16), (s32, v32) in zip(items, ds32):
        assert s32.dtype == torch.float32
        assert torch.equal(v16, v32.to(torch.bfloat16)) and torch.equal(s16, s32)


# --- a torch DataLoader with worker processes ------------------------------------------------


def pytorch_phix(**kwargs) -> bigwig_loader.PytorchBigWigDataset:
    options = dict(sequence_length=200, center_bin_to_predict=100, batch_size=8, seed=3, n_threads=1)
    options.update(return_batch_objects=True)
    options.update(kwargs)
    return bigwig_loader.PytorchBigWigDataset(PHIX_REGIONS, real_file(PHIX_TRACK), real_file(PHIX), **options)


def windows_of(batches) -> list[tuple[str, int]]:
    return [(c, int(s)) for b in batches for c, s in zip(b.chromosomes, b.starts)]


def through_workers(ds, workers: int = 2) -> list:
    return list(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers))


def test_dataloader_workers_each_take_their_share_of_the_epoch() -> None:
    """Each worker process used to replay the whole seeded epoch (7 batches twice). Worker w now
    takes the share rank w of 2 would (jitter and strands included), and the 7 batches are split
    4 + 3, so that the DataLoader yields the epoch's 7 batches, in turns of the workers."""
    ds = pytorch_phix(batches_per_epoch=7, jitter=20, reverse_complement=True)
    ds.set_epoch(0)
    items = through_workers(ds)
    assert len(items) == 7 == len(ds)
    for worker, batches in ((0, 4), (1, 3)):
        rank = phix_dataset(rank=worker, world_size=2, batches_per_epoch=batches, jitter=20, reverse_complement=True)
        expected = list(rank)
        assert windows_of(items[worker::2]) == windows_of(expected)
        for got, want in zip(items[worker::2], expected):
            assert got.flipped.tolist() == want.flipped.tolist()
            np.testing.assert_array_equal(got.values.numpy(), want.values)


def test_every_window_of_an_epoch_comes_once_across_workers_and_ranks() -> None:
    centres = [("phiX174", 500 + 7 * i) for i in range(600)]  # distinct: a repeat would be a duplicate
    seen = []
    for rank in (0, 1):
        ds = pytorch_phix(custom_position_sampler=centres, rank=rank, world_size=2, batches_per_epoch=5)
        ds.set_epoch(0)
        items = through_workers(ds)
        assert len(items) == 5
        seen += windows_of(items)
    assert len(seen) == 2 * 5 * 8 == len(set(seen))
    # Share r * 2 + w of 4 takes every 4th centre from it on: 3 batches for worker 0, 2 for worker 1.
    expected = {centres[share + 4 * k] for share, n in ((0, 24), (1, 16), (2, 24), (3, 16)) for k in range(n)}
    assert {(c, s + 50) for c, s in seen} == expected


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("batch_size", [16, 1, "default"])
def test_a_dataloader_batch_size_is_refused(workers: int, batch_size) -> None:
    """The dataset yields whole batches: a DataLoader batch size (1 when not given) stacked them
    into a tensor with one more axis without a word."""
    ds = pytorch_phix(batches_per_epoch=2, return_batch_objects=False)
    loader = (
        torch.utils.data.DataLoader(ds, num_workers=workers)
        if batch_size == "default"
        else torch.utils.data.DataLoader(ds, batch_size=batch_size, num_workers=workers)
    )
    batches = None
    try:
        batches = iter(loader)  # without workers, the error comes here
        next(batches)
    except ValueError as error:
        message = str(error)
        # Its traceback holds the DataLoader iterator in a cycle, left to the garbage collector,
        # whose shutdown of the worker processes then waits out torch's timeouts (10 s).
        error.__traceback__ = None
    else:
        pytest.fail("a DataLoader batch_size was accepted")
    del batches  # the worker processes end now
    assert re.search(r"yields whole batches .* DataLoader with batch_size=None", message), message


def test_workers_without_set_epoch_are_warned(monkeypatch) -> None:
    """Workers are copies of the main process's dataset, whose epoch never advances there: each
    DataLoader iteration (non-persistent workers) would repeat epoch 0. Simulated in-process:
    warnings of real worker processes do not reach pytest."""
    from torch.utils.data._utils.worker import WorkerInfo

    info = WorkerInfo(id=1, num_workers=2, seed=0, dataset=None)
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: info)
    ds = pytorch_phix(batches_per_epoch=3)
    with pytest.warns(UserWarning, match=r"call dataset.set_epoch\(epoch\) before each epoch"):
        assert len(list(ds)) == 1  # worker 1 of 2: 3 batches split 2 + 1
    ds = pytorch_phix(batches_per_epoch=3)
    ds.set_epoch(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(ds)) == 1


@pytest.mark.parametrize("encoder", [None, "bfloat16"])
def test_flipped_windows_as_strings_and_as_bfloat16_are_reverse_complemented(encoder) -> None:
    """One-hot sequences are reverse-complemented by the workers; strings for another encoder
    by the dataset: both equal the reverse complement of the forward read."""
    complement = str.maketrans("ACGTacgt", "TGCAtgca")
    options = dict(reverse_complement=True, batches_per_epoch=6, seed=11)
    if encoder is None:
        ds = phix_dataset(sequence_encoder=None, **options)
    else:
        ds = phix_dataset(sequence_dtype="bfloat16", **options)
    genome = ReferenceGenome(real_file(PHIX))
    flipped = 0
    for batch in ds:
        starts = np.asarray(batch.starts) + 50 - 100
        forward = genome.fetch(batch.chromosomes, starts, 200)
        for w in range(len(batch)):
            text = forward[w].tobytes().decode()
            want = text.translate(complement)[::-1] if batch.flipped[w] else text
            if encoder is None:
                assert batch.sequences[w] == want
            else:
                encoded = one_hot(np.frombuffer(want.encode(), np.uint8)[None, :], dtype="bfloat16")
                expected = torch.from_dlpack(encoded).view(torch.int16).numpy().view(np.uint16)[0]
                np.testing.assert_array_equal(np.asarray(batch.sequences[w]), expected)  # bit patterns
            flipped += bool(batch.flipped[w])
    assert flipped > 0
