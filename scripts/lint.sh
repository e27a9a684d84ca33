#!/usr/bin/env bash
# The house style, checked (run by .ci/run): ruff (lint and format) over the Python, clang-format
# (.clang-format: Google at 120 columns) over the C++ and CUDA. Changes nothing; any difference
# fails. To apply the style instead: scripts/lint.sh --fix.
# The formatters are pinned (ruff below, clang-format by Debian's clang version in
# scripts/clang_tools.sh): another version may format differently, and the check must not move
# under the code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/clang_tools.sh  # CLANG_FORMAT, installed when missing
ruff_version=0.17.6
[ -x .venv/bin/python ] || { echo "lint: no .venv: run scripts/setup.sh first" >&2; exit 1; }
if [ "$(.venv/bin/ruff --version 2>/dev/null)" != "ruff $ruff_version" ]; then
  .venv/bin/python -m pip install -q "ruff==$ruff_version"
fi

mapfile -t cxx < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h')
if [ "${1:-}" = "--fix" ]; then
  .venv/bin/ruff check --fix .
  .venv/bin/ruff format .
  "$CLANG_FORMAT" -i "${cxx[@]}"
  exit 0
fi
# The top layer's rule (docs/ARCHITECTURE.md, Layers): only cpp/python_bindings includes pybind11,
# and no other code under cpp/ includes a header of cuda/ (the bindings sit on top of both).
mapfile -t cuda_headers < <(cd cuda && ls *.hpp)
up=$(git grep -n -E '#include [<"]pybind11/' -- '*.cpp' '*.hpp' '*.cu' ':!cpp/python_bindings' || true)
for h in "${cuda_headers[@]}"; do
  up+=$(git grep -n -F "#include \"$h\"" -- 'cpp' ':!cpp/python_bindings' || true)
done
if [ -n "$up" ]; then
  echo "lint: includes that run up past the layers (only cpp/python_bindings may include pybind11 and cuda/):" >&2
  echo "$up" >&2
  exit 1
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
"$CLANG_FORMAT" --dry-run -Werror "${cxx[@]}"
echo "lint: ruff and $CLANG_FORMAT find nothing to change (${#cxx[@]} C++/CUDA files)"
