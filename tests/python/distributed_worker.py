"""Run by test_torchrun.py under torchrun: each rank records the windows it was given."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import torch.distributed as dist

import bigwig_loader
from conftest import real_file


def main(out_dir: Path) -> None:
    dist.init_process_group("gloo")
    regions = pd.DataFrame({"chrom": ["phiX174"], "start": [0], "end": [5_386]})
    centres = [("phiX174", 500 + 7 * i) for i in range(400)]
    record = {}
    for name, sampler in (("fixed", centres), ("random", None)):
        ds = bigwig_loader.PytorchBigWigDataset(
            regions,
            real_file("deeptools/bamCoverage_result4.bw"),
            real_file("deeptools/phiX.fasta"),
            sequence_length=200,
            batch_size=8,
            batches_per_epoch=4,
            seed=11,
            n_threads=2,
            custom_position_sampler=sampler,
            return_batch_objects=True,
            device="cpu",
        )
        assert (ds.dataset.rank, ds.dataset.world_size) == (dist.get_rank(), dist.get_world_size())
        record[name] = [int(s) for batch in ds for s in batch.starts]
    (out_dir / f"rank{dist.get_rank()}.json").write_text(json.dumps(record))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
