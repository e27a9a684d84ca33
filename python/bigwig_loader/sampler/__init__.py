"""Samplers of genomic positions, tracks and sequences: seeded, never touching global state."""

from bigwig_loader.sampler.genome_sampler import GenomicSequenceSampler
from bigwig_loader.sampler.position_sampler import RandomPositionSampler
from bigwig_loader.sampler.track_sampler import TrackSampler

__all__ = ["GenomicSequenceSampler", "RandomPositionSampler", "TrackSampler"]
