"""Two processes under torchrun (gloo, CPU) draw disjoint, deterministic streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_two_ranks_under_torchrun_draw_disjoint_streams(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(HERE / "distributed_worker.py"),
        str(tmp_path),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    fixed = [r["fixed"] for r in ranks]
    assert len(fixed[0]) == len(fixed[1]) == 32
    assert set(fixed[0]).isdisjoint(fixed[1])
    # Rank r takes every second centre of the shared stream, starting at r.
    starts = [500 + 7 * i - 100 for i in range(400)]  # target window = the 200 bp sequence window
    assert fixed[0] == starts[0::2][:32] and fixed[1] == starts[1::2][:32]
    assert ranks[0]["random"] != ranks[1]["random"]
