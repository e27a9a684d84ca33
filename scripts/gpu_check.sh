#!/usr/bin/env bash
# The one-call device check (issue 10): everything a GPU machine needs to prove the CUDA path.
#
# HOW IT IS INVOKED
#   1. Here, once, in the checkout the device tool sends (downloads and copies into git-ignored
#      folders of that checkout):
#        bash scripts/gpu_check.sh --prepare
#      .whl/         pyBigWig, pybigtools, nvidia-libnvcomp-cu13 wheels (cp312, manylinux x86-64)
#      .realdata/    a copy of ../shared/data/real (the tests' real bigWigs), which does not travel;
#                    without them, the test corpus of stand-ins (tests/python/corpus.py)
#      .gpu_include/ zlib.h, zconf.h (headers the C++ tests need; the GPU image may lack them)
#      Together about 40 MB of the tool's 64 MiB.
#   2. On the GPU machine, through the device tool, from the repository root:
#        run(command="bash scripts/gpu_check.sh", carry=[".whl", ".realdata", ".gpu_include"], timeout_s=540)
#   3. Without a GPU (or with --dry-run), every step that needs one is reported "dry-run" and the
#      rest runs:  bash scripts/gpu_check.sh --dry-run [OUTDIR]
#
# GPU_CHECK_STEPS="bench nvcomp" (say) runs only those of pytest-gpu, memcheck, bench, racecheck,
# nvcomp, pytest, ctest, threads, growth (the build always runs): a second run that finishes what the
# first ran out of time for. GPU_CHECK_SECONDS moves the deadline (default 450).
#
# Argument: the output folder (default $OUT, else build/gpu-check). Full logs go there (at most 8
# files: what the device tool brings back); a short table is printed last. The whole check stops
# by a deadline well inside 8 minutes: each step runs under what is left, and a step that no
# longer fits is reported "not run (time)".
#
# Steps, most telling first (GPU time is short): env; wheels (pip --target, no index); build +
# install from this tree (CUDA arch 90, says which CPU inflate it uses: libdeflate, else zlib; a
# build without CUDA stops the GPU steps at once instead of failing each); the GPU tests
# (pytest -m gpu); compute-sanitizer memcheck over tests/python/test_gpu_core.py (torch-free
# where it can be, short; the test that leaves a stale CUDA error on purpose is left out, as
# the sanitizer reports every failed API call); the GPU benchmark (benchmarks/bench_gpu.py:
# 1,024 x 1 kb x 64 tracks and Enformer-size, GPU vs CPU backend, CUDA stage times, each case
# written as it finishes); racecheck over the same tests; the inflate kernel alone against
# nvCOMP's batched Deflate on the same blocks (benchmarks/inflate_vs_nvcomp.cu, compiled there
# with nvcc against the nvCOMP wheel; without the wheel, or when that compile fails, only our
# kernel runs, and the table says nvCOMP was not run); the rest of the pytest suite (the CPU
# tests: with the GPU tests, the whole suite, no -x); the C++ tests, only if GoogleTest is found
# and time is left; last, the CPU backend's thread sweep (benchmarks/threads.py, 1 thread to every
# core; issue 25), also only if time is left (GPU_CHECK_STEPS=threads: a run of its own); then the
# block cache's cost while it grows (benchmarks/cache_growth.py; GPU_CHECK_STEPS=growth). pytest
# steps run with --timeout where pytest-timeout is installed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DRY=0
PREPARE=0
OUTDIR=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    --prepare) PREPARE=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) OUTDIR="$arg" ;;
  esac
done

if [ "$PREPARE" = 1 ]; then
  set -e
  mkdir -p .whl .gpu_include
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
    "pyBigWig==0.3.29" "pybigtools==0.3.0" "nvidia-libnvcomp-cu13==6.0.0.12"
  real=${BWL_REAL_DATA:-../shared/data/real}
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ ! -d "$real" ] && [ -n "$origin" ] && [ -d "$origin/../shared/data/real" ]; then real="$origin/../shared/data/real"; fi
  rm -rf .realdata
  if [ -d "$real" ]; then
    cp -r "$real" .realdata
  else  # a clone without the shared files: the stand-ins the tests read instead
    corpus_python=python3
    [ -x .venv/bin/python ] && corpus_python=.venv/bin/python
    "$corpus_python" tests/python/corpus.py .realdata >/dev/null
  fi
  # zlib's headers: the C++ tests build their blocks with zlib (and the writer deflates with it
  # where libdeflate is absent), and an image may carry libz.so.1 without its headers.
  cp /usr/include/zlib.h /usr/include/zconf.h .gpu_include/ 2>/dev/null || true
  for d in .whl .realdata .gpu_include; do
    grep -qx "/$d/" .gitignore || echo "/$d/" >> .gitignore
  done
  du -sh .whl .realdata .gpu_include
  echo "prepare: done; the tree that travels: $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1) tracked"
  exit 0
fi

OUTDIR=${OUTDIR:-${OUT:-$ROOT/build/gpu-check}}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
WORK=$(mktemp -d /tmp/gpu-check.XXXXXX)
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
START=$(date +%s)
DEADLINE=$((START + ${GPU_CHECK_SECONDS:-450}))
export BWL_REAL_DATA=${BWL_REAL_DATA:-$ROOT/.realdata}
[ -d "$BWL_REAL_DATA" ] || BWL_REAL_DATA=$ROOT/../shared/data/real

if [ "$DRY" = 0 ] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no GPU visible (nvidia-smi -L failed): dry run"
  DRY=1
fi

wanted() { [ -z "${GPU_CHECK_STEPS:-}" ] || [[ " $GPU_CHECK_STEPS " == *" $1 "* ]]; }

ROWS=()
row() { ROWS+=("$(printf '| %-10s | %-9s | %5s | %s' "$1" "$2" "$3" "$4")"); }

# run_step NAME BUDGET_SECONDS LOG COMMAND...: runs under min(budget, time left), appends to LOG.
STEP_RC=0
STEP_SECONDS=0
run_step() {
  local name=$1 budget=$2 log=$3
  shift 3
  local left=$((DEADLINE - $(date +%s)))
  [ "$budget" -gt "$left" ] && budget=$left
  if [ "$budget" -lt 10 ]; then
    STEP_RC=124
    STEP_SECONDS=0
    echo "=== $name: not run (time)" >>"$log"
    return 124
  fi
  echo "=== $name (limit ${budget}s): $*" >>"$log"
  local t0
  t0=$(date +%s)
  timeout --kill-after=5 "$budget" "$@" >>"$log" 2>&1
  STEP_RC=$?
  STEP_SECONDS=$(($(date +%s) - t0))
  echo "=== $name: exit $STEP_RC after ${STEP_SECONDS}s" >>"$log"
  return $STEP_RC
}

status_of() {  # exit code -> table word
  case "$1" in 0) echo ok ;; 124|137) echo "TIMEOUT" ;; *) echo "FAIL($1)" ;; esac
}

# --- env -----------------------------------------------------------------------------------
ENV_LOG=$OUTDIR/env.log
{
  echo "date: $(date -u)"; echo "host: $(uname -a)"; echo "cpus: $(nproc)"
  nvidia-smi 2>&1 | head -20 || true
  nvcc --version 2>&1 | tail -2 || true
  compute-sanitizer --version 2>&1 | head -2 || true
  "$PY" -c 'import sys; print("python", sys.version)'
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1
  "$PY" -c 'import cupy; print("cupy", cupy.__version__)' 2>&1
  pkg-config --modversion libdeflate 2>&1 | sed 's/^/libdeflate (pkg-config): /'
  ls /usr/include/zlib.h 2>&1
} >"$ENV_LOG" 2>&1
if [ "$DRY" = 1 ]; then row env ok 0 "no GPU: dry run"; else row env ok 0 "$(nvidia-smi -L 2>/dev/null | head -1)"; fi

# --- wheels --------------------------------------------------------------------------------
SITE=$WORK/site
BUILD_LOG=$OUTDIR/build.log
: >"$BUILD_LOG"
if ls .whl/*.whl >/dev/null 2>&1; then
  if run_step wheels 60 "$BUILD_LOG" "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --upgrade --target "$SITE" .whl/*.whl; then
    row wheels ok "$STEP_SECONDS" "$(ls .whl/*.whl | wc -l) wheels -> $SITE"
  else
    # Wheels of another Python (a dry run here): install what fits one by one.
    for w in .whl/*.whl; do "$PY" -m pip install -q --no-index --no-deps --target "$SITE" "$w" >>"$BUILD_LOG" 2>&1 || true; done
    row wheels partial "$STEP_SECONDS" "some wheels do not fit $("$PY" -c 'import sys; print(sys.version.split()[0])') (see build.log)"
  fi
else
  row wheels skipped 0 "no .whl/ (run --prepare here, carry .whl)"
fi
export PYTHONPATH=$WORK/bwl:$SITE${PYTHONPATH:+:$PYTHONPATH}

# --- build + install -----------------------------------------------------------------------
DEFINES=(--config-settings=cmake.define.CMAKE_CUDA_ARCHITECTURES=90 --config-settings=build-dir=build/gpu-check-wheel)
ZLIB_DEFINES=()  # for CMake itself (the C++ tests), as -D...; DEFINES gets them as config settings
if [ -f .gpu_include/zlib.h ] && [ ! -f /usr/include/zlib.h ]; then  # zlib's library without its headers
  LIBZ=$(ls /usr/lib/x86_64-linux-gnu/libz.so* /lib/x86_64-linux-gnu/libz.so* /usr/lib64/libz.so* 2>/dev/null | head -1)
  [ -n "$LIBZ" ] && ZLIB_DEFINES=(-DZLIB_INCLUDE_DIR="$ROOT/.gpu_include" -DZLIB_LIBRARY="$LIBZ")
fi
for d in "${ZLIB_DEFINES[@]}"; do DEFINES+=(--config-settings=cmake.define.${d#-D}); done
if command -v nvcc >/dev/null 2>&1; then  # CMake's CUDA check then needs no search of its own
  DEFINES+=(--config-settings=cmake.define.CMAKE_CUDA_COMPILER="$(command -v nvcc)")
fi
export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
if run_step build 240 "$BUILD_LOG" "$PY" -m pip install -v --no-build-isolation --no-deps --no-index \
    --target "$WORK/bwl" "${DEFINES[@]}" .; then
  INFLATE=$("$PY" -c 'import bigwig_loader as b; print(b.inflate_backend, "cuda" if b._core.built_with_cuda else "NO-CUDA")' 2>>"$BUILD_LOG")
  if [ "$DRY" = 0 ] && [[ "$INFLATE" != *" cuda" ]]; then
    # Every GPU step would fail at its first call: say why once, and stop them.
    row build "FAIL" "$STEP_SECONDS" "built WITHOUT CUDA ($INFLATE): see build.log for CMake's CUDA check"
    BUILT=0
  else
    row build ok "$STEP_SECONDS" "CPU inflate: $INFLATE ($(grep -m1 -o 'CPU inflate uses [^;]*' "$BUILD_LOG"))"
    BUILT=1
  fi
else
  row build "$(status_of $STEP_RC)" "$STEP_SECONDS" "see build.log: $(grep -m1 -iE 'error|not found' "$BUILD_LOG" | cut -c1-80)"
  BUILT=0
fi

# --- pytest -----------------------------------------------------------------------------------
PYTEST_LOG=$OUTDIR/pytest.log
: >"$PYTEST_LOG"
TIMEOUT_FLAG=()
"$PY" -c 'import pytest_timeout' >/dev/null 2>&1 && TIMEOUT_FLAG=(--timeout=120)
# pytest_step NAME BUDGET MARK...: one pytest run of tests/python with the marker expression given.
pytest_step() {
  local name=$1 budget=$2
  shift 2
  run_step "$name" "$budget" "$PYTEST_LOG" "$PY" -m pytest tests/python -p no:cacheprovider -q -rfE \
    "${TIMEOUT_FLAG[@]}" "$@"
  local summary
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|[0-9]+ (passed|failed|error)|no tests ran' "$PYTEST_LOG" | tail -1 | tr -d '=')
  row "$name" "$(status_of $STEP_RC)" "$STEP_SECONDS" "$summary"
}

# --- the GPU tests first: what only this machine can run -----------------------------------------
if [ "$BUILT" = 1 ] && ! wanted pytest-gpu; then
  row pytest-gpu skipped 0 "not in GPU_CHECK_STEPS"
elif [ "$BUILT" = 1 ] && [ "$DRY" = 1 ]; then
  row pytest-gpu dry-run 0 "pytest -m gpu (needs a GPU)"
elif [ "$BUILT" = 1 ]; then
  pytest_step pytest-gpu 120 -m gpu
fi

# --- compute-sanitizer ----------------------------------------------------------------------------
SAN_LOG=$OUTDIR/sanitizer.log
: >"$SAN_LOG"
# sanitize TOOL BUDGET: the tool over test_gpu_core.py, less the test that leaves a stale CUDA
# error on purpose (a failed cudaSetDevice, which the sanitizer reports as an API error).
sanitize() {
  local tool=$1 budget=$2
  if ! wanted "$tool"; then
    row "$tool" skipped 0 "not in GPU_CHECK_STEPS"
    return
  fi
  if [ "$DRY" = 1 ] || [ "$BUILT" = 0 ]; then
    row "$tool" dry-run 0 "compute-sanitizer --tool $tool over tests/python/test_gpu_core.py (needs a GPU)"
    return
  fi
  run_step "$tool" "$budget" "$SAN_LOG" compute-sanitizer --tool "$tool" --error-exitcode 99 --print-limit 50 \
    "$PY" -m pytest tests/python/test_gpu_core.py -p no:cacheprovider -q -k "not stale"
  row "$tool" "$(status_of $STEP_RC)" "$STEP_SECONDS" "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$SAN_LOG" | tail -1)"
}
sanitize memcheck 75

# --- GPU benchmark ------------------------------------------------------------------------------
BENCH_LOG=$OUTDIR/bench.log
: >"$BENCH_LOG"
BLOCKS=$WORK/blocks
if ! wanted bench && ! wanted nvcomp; then
  row bench skipped 0 "not in GPU_CHECK_STEPS"
elif [ "$DRY" = 1 ] || [ "$BUILT" = 0 ]; then
  row bench dry-run 0 "bench_gpu.py --case kb enformer (needs a GPU)"
  # What runs without a GPU: the block dump the nvCOMP comparison reads, on one corpus track.
  "$PY" - "$BLOCKS" >>"$BENCH_LOG" 2>&1 <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
import bench_gpu, corpus
bench_gpu.dump_blocks(corpus.ensure_corpus(1), Path(sys.argv[1]), 2_000)
EOF
elif ! wanted bench; then  # the nvCOMP comparison alone still needs the blocks
  run_step dump 60 "$BENCH_LOG" "$PY" benchmarks/bench_gpu.py --case kb --batches 1 --dump-blocks "$BLOCKS"
  row bench skipped "$STEP_SECONDS" "not in GPU_CHECK_STEPS (blocks dumped for nvcomp)"
else
  run_step bench 100 "$BENCH_LOG" "$PY" benchmarks/bench_gpu.py --case kb enformer --tracks 64 --batches 5 \
    --json "$OUTDIR/bench.json" --dump-blocks "$BLOCKS" --dump-limit 50000
  row bench "$(status_of $STEP_RC)" "$STEP_SECONDS" "$(grep -m2 'CUDA backend get_batch' "$BENCH_LOG" | awk -F'|' '{printf "%s ms (%s) ", $3, $5}')"
fi

sanitize racecheck 45

# --- inflate kernel alone vs nvCOMP batched Deflate ---------------------------------------------
NV_LOG=$OUTDIR/nvcomp.log
: >"$NV_LOG"
NVCOMP=$(ls -d "$SITE"/nvidia/libnvcomp 2>/dev/null || true)
NVFLAGS=()
if [ -n "$NVCOMP" ] && [ -f "$NVCOMP/include/nvcomp/deflate.h" ]; then
  mkdir -p "$WORK/nvlib" && ln -sf "$(ls "$NVCOMP"/lib64/libnvcomp.so.* | head -1)" "$WORK/nvlib/libnvcomp.so"
  NVFLAGS=(-DBWL_HAVE_NVCOMP -I "$NVCOMP/include" -L "$WORK/nvlib" -lnvcomp -Xlinker "-rpath=$NVCOMP/lib64")
fi
if ! wanted nvcomp; then
  row nvcomp skipped 0 "not in GPU_CHECK_STEPS"
elif run_step nvcc 90 "$NV_LOG" nvcc -O3 -std=c++17 --fmad=false -arch=sm_90 -I cpp benchmarks/inflate_vs_nvcomp.cu \
    -o "$WORK/inflate_vs_nvcomp" "${NVFLAGS[@]}" ||
  { [ ${#NVFLAGS[@]} -gt 0 ] && NVFLAGS=() && echo "=== nvcc with nvCOMP failed: our kernel alone" >>"$NV_LOG" &&
    run_step nvcc 60 "$NV_LOG" nvcc -O3 -std=c++17 --fmad=false -arch=sm_90 -I cpp benchmarks/inflate_vs_nvcomp.cu \
      -o "$WORK/inflate_vs_nvcomp"; }; then
  NOTE="compiled $([ ${#NVFLAGS[@]} -gt 0 ] && echo 'with nvCOMP' || echo 'WITHOUT nvCOMP (no wheel, or its compile failed): nvCOMP side not run')"
  if [ "$DRY" = 1 ] || [ ! -f "$BLOCKS/blocks.idx" ]; then
    row nvcomp dry-run "$STEP_SECONDS" "$NOTE; not run (needs a GPU$([ -f "$BLOCKS/blocks.idx" ] || echo ' and the dumped blocks'))"
  else
    run_step nvcomp 45 "$NV_LOG" "$WORK/inflate_vs_nvcomp" "$BLOCKS/blocks.bin" "$BLOCKS/blocks.idx" 10
    row nvcomp "$(status_of $STEP_RC)" "$STEP_SECONDS" "$(grep -E 'GB/s' "$NV_LOG" | awk '{printf "%s %s: %s GB/s; ", $1, $2, $(NF-1)}')"
  fi
else
  row nvcomp "$(status_of $STEP_RC)" "$STEP_SECONDS" "nvcc failed: see nvcomp.log"
fi

# --- the rest of the suite: the CPU tests (with the GPU tests above, the whole suite) --------------
if [ "$BUILT" = 1 ] && ! wanted pytest; then
  row pytest skipped 0 "not in GPU_CHECK_STEPS"
elif [ "$BUILT" = 1 ]; then
  pytest_step pytest 150 -m "not gpu"
fi

# --- C++ tests (GoogleTest), last: the Python suite runs the same code; only if time is left ---
if [ "$BUILT" = 1 ] && ! wanted ctest; then
  row ctest skipped 0 "not in GPU_CHECK_STEPS"
elif [ "$BUILT" = 1 ]; then
  if cmake -S . -B build/gpu-check-ctest -DBWL_BUILD_TESTS=ON -DBWL_BUILD_PYTHON=OFF -DCMAKE_CUDA_ARCHITECTURES=90 \
      "${ZLIB_DEFINES[@]}" >>"$BUILD_LOG" 2>&1; then
    if run_step ctest 150 "$BUILD_LOG" bash -c "cmake --build build/gpu-check-ctest --parallel $(nproc) --target bwl_cpp_tests bwl_allocation_tests && ctest --test-dir build/gpu-check-ctest --parallel $(nproc)"; then
      row ctest ok "$STEP_SECONDS" "$(grep -m1 'tests passed' "$BUILD_LOG")"
    else
      row ctest "$(status_of $STEP_RC)" "$STEP_SECONDS" "$(grep -m1 'tests passed\|tests failed' "$BUILD_LOG")"
    fi
  else
    row ctest skipped 0 "no GoogleTest here (cmake configure failed: see build.log)"
  fi
fi

# --- the CPU backend's thread sweep (issue 25), last: 1 thread to every core of the GPU machine,
# measured where the development VM has 2; its table goes into bench.log (8 files at most) -------
if [ "$BUILT" = 1 ] && ! wanted threads; then
  row threads skipped 0 "not in GPU_CHECK_STEPS"
elif [ "$BUILT" = 1 ] && [ "$DRY" = 1 ] && [ -z "${GPU_CHECK_STEPS:-}" ]; then
  row threads skipped 0 "dry run: the sweep is for the GPU machine's cores (GPU_CHECK_STEPS=threads runs it)"
elif [ "$BUILT" = 1 ]; then
  COUNTS=$("$PY" -c 'import os; n = len(os.sched_getaffinity(0)); print(*sorted({c for c in (1, 2, 4, 8, 16, n) if c <= n}))')
  # shellcheck disable=SC2086  # COUNTS is a list of thread counts
  # On a fresh machine the step first writes its 16-track corpus (benchmarks/out, git-ignored):
  # its time counts against the step's.
  if run_step threads 240 "$BENCH_LOG" "$PY" benchmarks/threads.py --threads $COUNTS --rounds 2; then
    row threads ok "$STEP_SECONDS" "threads $COUNTS: see bench.log"
  else
    row threads "$(status_of $STEP_RC)" "$STEP_SECONDS" "threads $COUNTS: see bench.log"
  fi
fi

# --- the block cache while it grows (issue 25: "the cache never a cost"), last: on the development
# VM its new entries' page faults cost ~2 us each (host-backed guest memory), which a machine
# with native page faults prices differently; benchmarks/cache_growth.py prints both -------------
if [ "$BUILT" = 1 ] && ! wanted growth; then
  row growth skipped 0 "not in GPU_CHECK_STEPS"
elif [ "$BUILT" = 1 ] && [ "$DRY" = 1 ] && [ -z "${GPU_CHECK_STEPS:-}" ]; then
  row growth skipped 0 "dry run: measured on the GPU machine (GPU_CHECK_STEPS=growth runs it)"
elif [ "$BUILT" = 1 ]; then
  if run_step growth 60 "$BENCH_LOG" "$PY" benchmarks/cache_growth.py --slices 10; then
    row growth ok "$STEP_SECONDS" "$(grep -o 'median of slices: [0-9.]*' "$BENCH_LOG" | tail -1): see bench.log"
  else
    row growth "$(status_of $STEP_RC)" "$STEP_SECONDS" "see bench.log"
  fi
fi

# --- the table ------------------------------------------------------------------------------------
{
  echo
  echo "gpu_check $([ "$DRY" = 1 ] && echo '(DRY RUN: no GPU steps)') $(date -u '+%F %T UTC'), $(($(date +%s) - START)) s, logs in $OUTDIR"
  echo "| step       | status    |     s | note"
  echo "|------------|-----------|-------|-----"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUTDIR/summary.txt"
rm -rf "$WORK"
