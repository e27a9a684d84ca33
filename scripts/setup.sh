#!/usr/bin/env bash
# Sets up everything on a fresh Debian machine: the system packages the build needs (when they
# are missing and this user can install them), a virtual environment in .venv, and the package
# with its test extras, built from source through CMake. With --if-missing it does nothing when
# all of that is already there (scripts/test.sh and scripts/demo.sh call it so).
set -euo pipefail
cd "$(dirname "$0")/.."
if_missing=false
[ "${1:-}" = "--if-missing" ] && if_missing=true

# Debian packages: libdeflate (full-speed CPU inflate and the writer's deflate; the package builds
# without it, slower), GoogleTest and zlib (the C++ tests and their block builder), pkg-config (to
# find libdeflate), a C++ compiler; Python with its headers and venv (a minimal Debian has neither).
# A pip user needs none of them but the compiler and Python's headers (README, "Install").
packages=(libdeflate-dev libgtest-dev zlib1g-dev pkg-config g++ python3 python3-dev python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if $if_missing && [ ${#missing[@]} -eq 0 ] && [ -x .venv/bin/cmake ] \
   && .venv/bin/python -c 'import bigwig_loader, pytest, pyBigWig, pybigtools, torch, matplotlib' 2>/dev/null; then
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo=none; fi
  if [ "$sudo" = none ]; then
    echo "setup: cannot install ${missing[*]} (not root, no sudo); install them, then run this again." >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Build requirements in the environment itself, so the package builds without isolation and
# CMake/ninja come from PyPI where the system has none.
.venv/bin/python -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "cmake>=3.24" ninja
# PyTorch for the DLPack tests: pinned to the CPU build this image's pip finds locally; an
# unpinned "torch" would pull the newest CUDA build (several GB).
.venv/bin/python -m pip install -q "torch==${BWL_TORCH_VERSION:-2.13.0}"
.venv/bin/python -m pip install -q --no-build-isolation ".[test]"
echo "setup: done ($(.venv/bin/python -c 'import bigwig_loader as b; print("bigwig-loader", b.__version__, "inflate:", b.inflate_backend)'))"
