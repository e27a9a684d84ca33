#!/usr/bin/env bash
# Sets up everything on a fresh Debian machine: the system packages the build needs (when they
# are missing and this user can install them), a virtual environment in .venv, and the package
# with its test extras, built from source through CMake. With --if-missing it does nothing, and
# says nothing, when all of that is already there (scripts/test.sh and scripts/demo.sh call it
# so). With --dry-run it prints its steps and the commands it would run, and runs none.
#
# A first run takes about six minutes on a 2-CPU machine, nearly all of it PyTorch's install and
# the C++ build: each step says what it does and about how long it takes, and those two show
# their own progress (pip's, then CMake's and ninja's [n/N] lines).
set -euo pipefail
cd "$(dirname "$0")/.."
if_missing=false
dry_run=false
for arg in "$@"; do
  case "$arg" in
    --if-missing) if_missing=true ;;
    --dry-run) dry_run=true ;;
    -h | --help)
      echo "usage: bash scripts/setup.sh [--if-missing] [--dry-run]"
      exit 0
      ;;
    *)
      echo "setup: unknown argument '$arg' (usage: bash scripts/setup.sh [--if-missing] [--dry-run])" >&2
      exit 2
      ;;
  esac
done

STEPS=6
# One numbered line before each step: what it does and about how long it takes.
step() { echo "setup [$1/$STEPS]: $2"; }
# Runs a command, or with --dry-run only shows it (quoted as a shell would need it).
run() {
  if $dry_run; then
    printf '  would run:'
    printf ' %q' "$@"
    echo
  else
    "$@"
  fi
}

# Debian packages: libdeflate (full-speed CPU inflate and the writer's deflate; the package builds
# without it, slower), GoogleTest and zlib (the C++ tests and their block builder), pkg-config (to
# find libdeflate), a C++ compiler; nginx-light (the HTTP range server that the remote-reading
# tests start on 127.0.0.1; their S3 server, moto, comes with the test extras); Python with its
# headers and venv (a minimal Debian has neither).
# A pip user needs none of them but the compiler and Python's headers (README, "Install").
packages=(libdeflate-dev libgtest-dev zlib1g-dev pkg-config g++ nginx-light python3 python3-dev python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if $if_missing && [ ${#missing[@]} -eq 0 ] && [ -x .venv/bin/cmake ] \
   && .venv/bin/python -c 'import bigwig_loader, pytest, pyBigWig, pybigtools, torch, matplotlib, obstore, moto.server' 2>/dev/null; then
  exit 0
fi
if $if_missing; then
  echo "setup: something is missing; setting up (about six minutes on a first run)"
fi

if [ ${#missing[@]} -gt 0 ]; then
  step 1 "installing Debian packages ${missing[*]} with apt (about a minute)"
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo=none; fi
  if [ "$sudo" = none ] && ! $dry_run; then
    echo "setup: cannot install ${missing[*]} (not root, no sudo); install them, then run this again." >&2
    exit 1
  fi
  if [ "$sudo" = none ]; then sudo="sudo"; fi  # a dry run shows the command as root would run it
  run $sudo apt-get update -qq
  run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  step 1 "Debian packages: all there"
fi

python="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then
  step 2 "virtual environment: .venv is there"
else
  step 2 "creating the virtual environment .venv (seconds)"
  run "$python" -m venv .venv
fi
step 3 "upgrading pip in .venv (seconds)"
run .venv/bin/python -m pip install -q --upgrade pip
# Build requirements in the environment itself, so the package builds without isolation and
# CMake/ninja come from PyPI where the system has none.
step 4 "installing the build tools scikit-build-core, pybind11, CMake and ninja (under a minute)"
run .venv/bin/python -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "cmake>=3.24" ninja
# PyTorch for the DLPack tests: pinned to the CPU build this image's pip finds locally; an
# unpinned "torch" would pull the newest CUDA build (several GB). Without -q: pip's own download
# and install lines show that this long step is moving.
step 5 "installing PyTorch ${BWL_TORCH_VERSION:-2.13.0} (CPU build; a few minutes on a first run, seconds after)"
run .venv/bin/python -m pip install "torch==${BWL_TORCH_VERSION:-2.13.0}"
# pip hides a build backend's output unless -v: with it, CMake's configure and ninja's [n/N]
# lines show the build's progress. CMAKE_BUILD_PARALLEL_LEVEL (when set) picks the build's jobs.
step 6 "building bigwig-loader from source with CMake, and installing it with its test extras (a few minutes on 2 CPUs; CMake's and ninja's progress follows)"
# BWL_BUILD_BENCH: bigwig_loader._bench, the benchmark-only inflate floor benchmarks/harness.py
# reports (not in the wheel).
run .venv/bin/python -m pip install -v --no-build-isolation -Ccmake.define.BWL_BUILD_BENCH=ON ".[test]"
if $dry_run; then
  echo "setup: dry run; nothing was changed"
  exit 0
fi
echo "setup: done ($(.venv/bin/python -c 'import bigwig_loader as b; print("bigwig-loader", b.__version__, "inflate:", b.inflate_backend)'))"
echo "setup: to use it, run 'source .venv/bin/activate' in your shell (then 'bigwig-loader --help'), or call .venv/bin/bigwig-loader directly"
