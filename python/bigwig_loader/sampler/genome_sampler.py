"""`GenomicSequenceSampler`: window centres paired with their DNA sequence."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np

from bigwig_loader.genome import ReferenceGenome

# Centres are looked up in the FASTA this many at a time, in one C++ call.
_CHUNK = 256


class GenomicSequenceSampler:
    """Yields ``(chromosome, centre, sequence)`` for each centre of `position_sampler` whose
    window ``[centre - sequence_length // 2, + sequence_length)`` lies inside the chromosome
    and has at most ``maximum_unknown_bases_fraction`` bases other than A, C, G, T
    (soft-masked lowercase bases count as bases). Other centres are skipped. A chromosome the
    FASTA lacks is a KeyError."""

    def __init__(
        self,
        reference_genome_path: str | os.PathLike[str],
        sequence_length: int,
        position_sampler: Iterable[tuple[str, int]],
        maximum_unknown_bases_fraction: float = 0.1,
    ) -> None:
        if sequence_length < 1:
            raise ValueError(f"sequence_length must be at least 1, got {sequence_length}")
        self.reference_genome_path = reference_genome_path
        self.sequence_length = sequence_length
        self.position_sampler = position_sampler
        self.maximum_unknown_bases_fraction = maximum_unknown_bases_fraction
        self.genome = ReferenceGenome(reference_genome_path)

    def __iter__(self) -> Iterator[tuple[str, int, str]]:
        positions = iter(self.position_sampler)
        half = self.sequence_length // 2
        while True:
            chunk = [p for _, p in zip(range(_CHUNK), positions)]
            if not chunk:
                return
            chroms = [c for c, _ in chunk]
            starts = np.array([centre for _, centre in chunk], dtype=np.int64) - half
            keep, bases = self.genome.fetch_usable(
                chroms, starts, self.sequence_length, self.maximum_unknown_bases_fraction
            )
            for i, row in zip(keep, bases):
                yield chroms[i], int(chunk[i][1]), row.tobytes().decode("ascii")
            if len(chunk) < _CHUNK:
                return
