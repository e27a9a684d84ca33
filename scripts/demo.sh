#!/usr/bin/env bash
# The library's main job in one command, on a fresh Debian machine: sets up what is missing
# (scripts/setup.sh: system packages, .venv, the package with PyTorch and matplotlib), then runs
# `bigwig-loader demo`: a model trained on synthetic bigWig tracks it writes itself (no
# download), scored on a held-out chromosome. Extra arguments go to the demo (--help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --if-missing
exec .venv/bin/bigwig-loader demo "$@"
