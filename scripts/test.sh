#!/usr/bin/env bash
# Runs every test: the C++ unit tests (GoogleTest through ctest) and the Python tests (pytest).
# Run scripts/setup.sh first. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build/cpp-tests "${generator[@]}" -DBWL_BUILD_TESTS=ON -DBWL_BUILD_PYTHON=OFF >/dev/null
cmake --build build/cpp-tests --parallel
ctest --test-dir build/cpp-tests --output-on-failure --parallel 2

python -m pytest tests/python "$@"
