"""Samplers, QueryBatchGenerator and Batch."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bigwig_loader import Batch, GenomicSequenceSampler, QueryBatchGenerator, RandomPositionSampler, TrackSampler
from conftest import real_file


def test_position_sampler_is_uniform_over_every_base_and_keeps_the_dataframe() -> None:
    regions = pd.DataFrame({"chrom": ["a", "b", "c"], "start": [0, 100, 1_000], "end": [10, 110, 1_020]})
    before = regions.copy()
    sampler = RandomPositionSampler(regions, buffer_size=1_000, seed=1)
    draws = [next(sampler) for _ in range(40_000)]
    pd.testing.assert_frame_equal(regions, before)
    counts: dict[tuple[str, int], int] = {}
    for d in draws:
        counts[d] = counts.get(d, 0) + 1
    expected_positions = (
        {("a", p) for p in range(10)} | {("b", p) for p in range(100, 110)} | {("c", p) for p in range(1_000, 1_020)}
    )
    assert set(counts) == expected_positions, "every base of every region, the last included, and nothing else"
    per_base = np.array(list(counts.values()))
    assert abs(per_base.mean() - 1_000) < 1e-9 and per_base.min() > 800 and per_base.max() < 1_200


def test_single_region_and_seeds() -> None:
    regions = pd.DataFrame({"chrom": ["x"], "start": [5], "end": [6]})
    assert {next(RandomPositionSampler(regions, seed=0)) for _ in range(3)} == {("x", 5)}
    big = pd.DataFrame({"chrom": ["x", "y"], "start": [0, 0], "end": [10**6, 10**6]})
    a = [next(s) for s in [RandomPositionSampler(big, seed=3)] * 100]
    b = [next(s) for s in [RandomPositionSampler(big, seed=3)] * 100]
    c = [next(s) for s in [RandomPositionSampler(big, seed=4)] * 100]
    assert a == b and a != c


def test_repeat_same_repeats_the_buffer() -> None:
    big = pd.DataFrame({"chrom": ["x"], "start": [0], "end": [10**9]})
    sampler = RandomPositionSampler(big, buffer_size=7, repeat_same=True, seed=0)
    first = [next(sampler) for _ in range(7)]
    assert [next(sampler) for _ in range(7)] == first
    fresh = RandomPositionSampler(big, buffer_size=7, seed=0)
    [next(fresh) for _ in range(7)]
    assert [next(fresh) for _ in range(7)] != first


def test_repeat_same_gives_the_same_positions_on_every_iteration() -> None:
    """0.3's meaning: iter() of a repeating sampler starts again from its first centre (it used
    to carry on through the buffer); without repeat_same iteration carries on."""
    big = pd.DataFrame({"chrom": ["x"], "start": [0], "end": [10**9]})
    sampler = RandomPositionSampler(big, buffer_size=7, repeat_same=True, seed=0)
    first = list(itertools.islice(iter(sampler), 5))
    assert list(itertools.islice(iter(sampler), 5)) == first
    buffer = list(itertools.islice(iter(sampler), 7))
    assert buffer[:5] == first
    assert list(itertools.islice(iter(sampler), 9)) == buffer + buffer[:2]  # past the buffer: it again
    fresh = RandomPositionSampler(big, buffer_size=7, seed=0)
    assert list(itertools.islice(iter(fresh), 5)) == first
    assert list(itertools.islice(iter(fresh), 5)) != first


@pytest.mark.parametrize("repeat_same", [False, True])
def test_position_sampler_take_continues_the_stream_that_iteration_yields(repeat_same: bool) -> None:
    big = pd.DataFrame({"chrom": ["a", "b", "c"], "start": [0, 100, 5], "end": [50, 400, 9]})
    one_by_one = RandomPositionSampler(big, buffer_size=7, repeat_same=repeat_same, seed=5)
    expected = [next(one_by_one) for _ in range(40)]
    mixed = RandomPositionSampler(big, buffer_size=7, repeat_same=repeat_same, seed=5)
    got = [next(mixed)]
    for n in (3, 7, 0, 11, 5):  # across buffer refills, and interleaved with next()
        chroms, centres = mixed.take(n)
        assert centres.dtype == np.int64 and len(chroms) == n
        got += list(zip(chroms.tolist(), centres.tolist()))
        got.append(next(mixed))
    assert got == expected[: len(got)]


def test_position_sampler_rejects_bad_regions() -> None:
    with pytest.raises(ValueError, match="columns"):
        RandomPositionSampler(pd.DataFrame({"chrom": ["x"], "start": [0]}))
    with pytest.raises(ValueError, match="empty"):
        RandomPositionSampler(pd.DataFrame({"chrom": [], "start": [], "end": []}))
    with pytest.raises(ValueError, match="start >= end"):
        RandomPositionSampler(pd.DataFrame({"chrom": ["x"], "start": [5], "end": [5]}))


def test_track_sampler() -> None:
    sampler = TrackSampler(10, 4, seed=2)
    subsets = [next(sampler) for _ in range(200)]
    assert all(len(s) == 4 == len(set(s)) and s == sorted(s) and 0 <= s[0] and s[-1] < 10 for s in subsets)
    assert {i for s in subsets for i in s} == set(range(10))
    assert [next(TrackSampler(10, 4, seed=2)) for _ in range(1)] == subsets[:1]
    with pytest.raises(ValueError, match="sample_size"):
        TrackSampler(3, 4)


def test_genomic_sequence_sampler_skips_windows_off_the_end_and_too_unknown(tmp_path: Path) -> None:
    fasta = tmp_path / "g.fa"
    fasta.write_text(">c\n" + "ACGT" * 5 + "NNNNNNNNNN" + "acgt" * 5 + "\n")  # 50 bases
    positions = [("c", 5), ("c", 1), ("c", 48), ("c", 25), ("c", 42), ("c", 44)]
    sampler = GenomicSequenceSampler(fasta, 10, positions, maximum_unknown_bases_fraction=0.1)
    got = list(sampler)
    # centre 1 starts below 0, 48 ends past 50, 25 is all N; 42 and 44 are soft-masked bases.
    assert got == [("c", 5, "ACGTACGTAC"), ("c", 42, "tacgtacgta"), ("c", 44, "cgtacgtacg")]
    with pytest.raises(KeyError, match="chrZ"):
        list(GenomicSequenceSampler(fasta, 10, [("chrZ", 20)]))


def test_query_batch_generator_and_batch_slicing() -> None:
    positions = [("chr1", 1_000 + i) for i in range(10)]
    gen = QueryBatchGenerator(
        iter(positions), center_bin_to_predict=100, batch_size=4, track_sampler=TrackSampler(5, 2, seed=0)
    )
    batches = list(gen)
    assert len(batches) == 2, "the short last batch is dropped"
    b = batches[0]
    np.testing.assert_array_equal(b.starts, [950, 951, 952, 953])
    np.testing.assert_array_equal(b.ends - b.starts, 100)
    assert len(b.track_indices) == 2 and b.sequences is None
    b.values = np.arange(4 * 3).reshape(4, 3, 1)
    b.other_batched = [np.array([10, 11, 12, 13])]
    b.flipped = np.array([False, True, False, True])
    part = b[1:3]
    assert part.chromosomes == ["chr1", "chr1"] and list(part.starts) == [951, 952]
    np.testing.assert_array_equal(part.values, b.values[1:3])
    np.testing.assert_array_equal(part.other_batched[0], [11, 12])
    np.testing.assert_array_equal(part.flipped, [True, False])
    assert part.track_indices == b.track_indices and len(part) == 2
    assert Batch.from_args((["chr1"], [0], [10])).chromosomes == ["chr1"]
    with pytest.raises(ValueError, match="expected"):
        Batch.from_args((["chr1"], [0]))


def test_sequences_flow_through_the_generator() -> None:
    fasta = real_file("deeptools/phiX.fasta")
    positions = RandomPositionSampler(pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]}), seed=0)
    sequences = GenomicSequenceSampler(fasta, 200, positions)
    batch = next(QueryBatchGenerator(sequences, center_bin_to_predict=100, batch_size=8))
    assert len(batch.sequences) == 8 and all(len(s) == 200 for s in batch.sequences)


def test_position_sampler_draws_its_buffer_in_pieces_as_one_draw() -> None:
    """A buffer of buffer_size centres is drawn a piece at a time (so that an epoch pays only for
    what it takes); the centres are those of one draw of buffer_size, since numpy's bounded integer
    draws are one stream however they are split into calls. This pins that."""
    big = pd.DataFrame({"chrom": ["a", "b", "c"], "start": [0, 10**6, 5], "end": [10**6, 3 * 10**6, 900]})
    whole_chroms, whole_centres = RandomPositionSampler(big, buffer_size=100_000, seed=11).sample(100_000)
    pieces = RandomPositionSampler(big, buffer_size=100_000, seed=11)
    chroms, centres = zip(*(pieces.take(n) for n in (1, 8_191, 5_000, 30_000)))
    assert np.array_equal(np.concatenate(chroms), whole_chroms[:43_192])
    assert np.array_equal(np.concatenate(centres), whole_centres[:43_192])


def test_with_seed_is_a_fresh_sampler_over_the_same_regions() -> None:
    big = pd.DataFrame({"chrom": ["a", "b"], "start": [0, 100], "end": [50, 400]})
    for repeat_same in (False, True):
        template = RandomPositionSampler(big, buffer_size=7, repeat_same=repeat_same, seed=0)
        next(template)  # its own position does not carry over
        copy = template.with_seed(9)
        fresh = RandomPositionSampler(big, buffer_size=7, repeat_same=repeat_same, seed=9)
        assert [next(copy) for _ in range(30)] == [next(fresh) for _ in range(30)]
        assert copy.take_codes(5)[0].max() < len(copy.chromosome_names) == 2
