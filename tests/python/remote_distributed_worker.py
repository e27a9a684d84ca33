"""Run by test_remote.py under torchrun: each rank reads its share of the windows from the S3
server (the multi-node layout on one machine) and checks it against the local files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch.distributed as dist

import bigwig_loader


def main(tracks_url: str, local_tracks: Path, out_dir: Path) -> None:
    dist.init_process_group("gloo")
    regions = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [1_000, 1_000], "end": [29_000, 49_000]})
    centres = [("chr1" if i % 2 else "chr2", 2_000 + 97 * i) for i in range(256)]
    collection = bigwig_loader.BigWigCollection(tracks_url)
    local = bigwig_loader.BigWigCollection(local_tracks, cache_bytes=0)
    rng = np.random.default_rng(dist.get_rank())
    fasta = out_dir / f"g{dist.get_rank()}.fa"
    fasta.write_text(
        "".join(
            f">{c}\n" + "".join(rng.choice(list("ACGT"), n)) + "\n" for c, n in [("chr1", 60_000), ("chr2", 50_000)]
        )
    )
    dataset = bigwig_loader.BigWigDataset(
        regions,
        collection,
        fasta,
        sequence_length=200,
        batch_size=8,
        batches_per_epoch=4,
        seed=11,
        n_threads=2,
        custom_position_sampler=centres,
        return_batch_objects=True,
        device="cpu",
    )
    assert (dataset.rank, dataset.world_size) == (dist.get_rank(), dist.get_world_size())
    windows, equal = [], True
    for batch in dataset:
        want = local.get_batch(batch.chromosomes, batch.starts, batch.ends)
        equal &= bool(np.array_equal(np.asarray(batch.values), np.asarray(want), equal_nan=True))
        windows += [[str(c), int(s)] for c, s in zip(batch.chromosomes, batch.starts)]
    (out_dir / f"rank{dist.get_rank()}.json").write_text(json.dumps({"windows": windows, "equal_to_local": equal}))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
