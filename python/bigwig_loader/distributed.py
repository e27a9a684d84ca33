"""Which rank of how many this process is, for disjoint per-rank streams."""

from __future__ import annotations


def rank_and_world_size(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """Explicit values win; otherwise torch.distributed's when it is initialised; else (0, 1)."""
    if rank is None or world_size is None:
        detected_rank, detected_world = 0, 1
        try:
            import torch.distributed as dist

            if dist.is_available() and dist.is_initialized():
                detected_rank, detected_world = dist.get_rank(), dist.get_world_size()
        except ImportError:
            pass
        rank = detected_rank if rank is None else rank
        world_size = detected_world if world_size is None else world_size
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must lie in [0, world_size): got rank {rank}, world_size {world_size}")
    return rank, world_size
