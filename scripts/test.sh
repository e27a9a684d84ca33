#!/usr/bin/env bash
# Runs every test: the C++ unit tests (GoogleTest through ctest) and the Python tests (pytest).
# Sets up what is missing first (scripts/setup.sh), so it works alone on a fresh Debian machine.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --if-missing
export PATH="$PWD/.venv/bin:$PATH"

source scripts/real_data.sh  # BWL_REAL_DATA: the real bigWig files the tests read

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build/cpp-tests "${generator[@]}" -DBWL_BUILD_TESTS=ON -DBWL_BUILD_PYTHON=OFF >/dev/null
cmake --build build/cpp-tests --parallel
ctest --test-dir build/cpp-tests --output-on-failure --parallel 2

# The GPU tests (marked gpu) need a CUDA device: where none is visible they are deselected,
# and said so; tests/python/test_device.py checks the errors users get there instead.
marker=()
if ! python -c 'import sys, bigwig_loader; sys.exit(0 if bigwig_loader.cuda_available() else 1)'; then
  echo "test: no usable CUDA device ($(python -c 'import bigwig_loader; print(bigwig_loader._core.cuda_unavailable_reason())')); deselecting the gpu tests"
  marker=(-m "not gpu")
fi
python -m pytest tests/python "${marker[@]}" "$@"
