"""scripts/setup.sh, without running its installs (a real run reinstalls PyTorch): its bash
parses, and --dry-run says each step, numbered, before the command it would run, keeps the
long steps' progress visible, and changes nothing. It runs on a copy of the script in an empty
folder, with dpkg-query faked, so that what this machine has installed does not matter."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "scripts" / "setup.sh"


def fake_dpkg(folder: Path, installed: bool) -> dict[str, str]:
    """An environment whose dpkg-query reports every package installed, or none."""
    folder.mkdir()
    answer = "printf 'install ok installed'" if installed else "exit 1"
    (folder / "dpkg-query").write_text(f"#!/bin/sh\n{answer}\n")
    (folder / "dpkg-query").chmod(0o755)
    return {"PATH": f"{folder}:/usr/bin:/bin", "HOME": str(folder)}


def dry_run(tmp_path: Path, *args: str, installed: bool = True) -> subprocess.CompletedProcess[str]:
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "scripts" / "setup.sh").write_text(SETUP.read_text())
    return subprocess.run(
        ["bash", str(checkout / "scripts" / "setup.sh"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=fake_dpkg(tmp_path / "bin", installed),
    )


def test_the_script_parses() -> None:
    r = subprocess.run(["bash", "-n", str(SETUP)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_dry_run_numbers_every_step_and_changes_nothing(tmp_path: Path) -> None:
    r = dry_run(tmp_path, "--dry-run")
    assert r.returncode == 0, r.stderr
    steps = re.findall(r"^setup \[(\d+)/(\d+)\]: (.+)$", r.stdout, re.M)
    assert [(int(k), int(n)) for k, n, _ in steps] == [(k, 6) for k in range(1, 7)]
    assert steps[0][2] == "Debian packages: all there"
    assert r.stdout.rstrip().endswith("setup: dry run; nothing was changed")
    assert sorted(p.name for p in (tmp_path / "checkout").iterdir()) == ["scripts"]  # no .venv made


def test_each_step_comes_before_its_command_and_the_long_ones_show_progress(tmp_path: Path) -> None:
    lines = dry_run(tmp_path, "--dry-run").stdout.splitlines()
    torch = next(i for i, line in enumerate(lines) if "would run:" in line and "torch==" in line)
    build = next(i for i, line in enumerate(lines) if "would run:" in line and "--no-build-isolation" in line)
    assert lines[torch - 1].startswith("setup [5/6]: installing PyTorch") and "minutes" in lines[torch - 1]
    assert lines[build - 1].startswith("setup [6/6]: building bigwig-loader") and "progress" in lines[build - 1]
    assert " -q" not in lines[torch]  # pip's own lines show the install moving
    assert " -v " in lines[build]  # pip passes the backend's output on: CMake's and ninja's [n/N]


def test_missing_debian_packages_are_named_with_the_apt_commands(tmp_path: Path) -> None:
    out = dry_run(tmp_path, "--dry-run", installed=False).stdout
    assert re.search(r"^setup \[1/6\]: installing Debian packages libdeflate-dev .* with apt", out, re.M)
    assert re.search(r"^  would run: .*apt-get install -y -qq libdeflate-dev .*python3-venv$", out, re.M)


@pytest.mark.parametrize("argument", ["--bogus", "if-missing"])
def test_an_unknown_argument_is_refused(tmp_path: Path, argument: str) -> None:
    r = dry_run(tmp_path, argument)
    assert r.returncode == 2
    assert f"setup: unknown argument '{argument}'" in r.stderr
    assert r.stdout == ""  # refused before any step


def test_the_readme_says_to_activate_the_environment() -> None:
    """After setup, `bigwig-loader` is only on PATH with .venv activated: the README says so
    where it sets up, before its first use of the command."""
    readme = (REPO / "README.md").read_text()
    activate = readme.index("source .venv/bin/activate")
    assert activate < readme.index("bigwig-loader info ")
    assert "source .venv/bin/activate" in SETUP.read_text()  # and setup's last line says it
