"""When the system refuses to start a thread part way through (thread limits in containers),
BigWigCollection and StreamedDataloader raise OSError saying so and leave nothing running.
Before, the pool's constructor hung and the loader's aborted the process (std::terminate).

Twice over: with the core's test hook (a refusal after n starts), and for real in a subprocess
whose RLIMIT_NPROC leaves room for two more threads (as an unprivileged user: root is exempt
from the limit, so a root test run drops to nobody in that subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bigwig_loader import BigWigCollection, StreamedDataloader, _core
from conftest import real_file

ENCODE = "bbi-js/ENCFF826FLP.bw"


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def settled_threads(expected: int) -> int:
    for _ in range(100):
        if native_threads() == expected:
            break
        time.sleep(0.01)
    return native_threads()


@pytest.fixture()
def refuse_after():
    def refuse(n: int) -> None:
        _core._fail_thread_starts_after(n)

    yield refuse
    _core._fail_thread_starts_after(-1)


def test_collection_thread_pool_refused_part_way(refuse_after) -> None:
    before = native_threads()
    refuse_after(2)
    with pytest.raises(OSError, match=r"could not start worker thread 3 of 7 of a thread pool.*limit"):
        BigWigCollection(real_file(ENCODE), n_threads=8)
    assert settled_threads(before) <= before  # nothing left running (another test's thread may end meanwhile)
    refuse_after(-1)
    assert BigWigCollection(real_file(ENCODE), n_threads=8).n_threads == 8


def test_loader_worker_refused_part_way(refuse_after) -> None:
    collection = BigWigCollection(real_file(ENCODE), n_threads=1)
    before = native_threads()
    refuse_after(3)
    with pytest.raises(OSError, match=r"could not start loader worker 4 of 6"):
        StreamedDataloader(iter([]), collection, num_threads=6)
    assert settled_threads(before) <= before


REAL_LIMIT_SCRIPT = textwrap.dedent(
    """
    import os, resource, sys
    from bigwig_loader import BigWigCollection, StreamedDataloader, _core

    collection = BigWigCollection(sys.argv[1], n_threads=1)  # opened while the file is readable
    if os.getuid() == 0:  # root ignores RLIMIT_NPROC: become nobody
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    uid = os.getuid()

    def user_tasks():
        n = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/status") as status:
                    real_uid = next(int(l.split()[1]) for l in status if l.startswith("Uid:"))
                if real_uid == uid:
                    n += len(os.listdir(f"/proc/{pid}/task"))
            except (OSError, StopIteration):
                pass
        return n

    def own_threads():
        return len(os.listdir("/proc/self/task"))

    before = own_threads()
    resource.setrlimit(resource.RLIMIT_NPROC, (user_tasks() + 2, resource.getrlimit(resource.RLIMIT_NPROC)[1]))
    for what, start in [("pool", lambda: _core.make_processor(-1, 8)),
                        ("loader", lambda: StreamedDataloader(iter([]), collection, num_threads=8, device="cpu"))]:
        try:
            start()
            print(what, "started")
        except OSError as e:
            print(what, "refused:", e)
        print(what, "threads after", own_threads(), "before", before)
    """
)


def test_the_system_refusing_threads_for_real(tmp_path: Path) -> None:
    data = Path(real_file(ENCODE))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    script = tmp_path / "limit.py"
    script.write_text(REAL_LIMIT_SCRIPT)
    os.chmod(tmp_path, 0o755)
    os.chmod(script, 0o644)
    result = subprocess.run(
        [sys.executable, str(script), str(data)], capture_output=True, text=True, timeout=120, env=env, cwd="/"
    )
    assert result.returncode == 0, result.stderr  # no abort, no hang
    lines = result.stdout.splitlines()
    assert any(line.startswith("pool refused: could not start worker thread 3 of 7") for line in lines), result.stdout
    assert any(line.startswith("loader refused: could not start loader worker 3 of 8") for line in lines), result.stdout
    for line in lines:
        if " threads after " in line:
            after, before = int(line.split()[3]), int(line.split()[5])
            assert after == before, line  # nothing left running
