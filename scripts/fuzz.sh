#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (AddressSanitizer + UndefinedBehaviorSanitizer, Debian's
# clang, installed when missing) in build/fuzz, writes their seed corpora, and runs each target:
#   scripts/fuzz.sh                 each target for $BWL_FUZZ_SECONDS seconds (default 60; CI)
#   BWL_FUZZ_RUNS=1000000 scripts/fuzz.sh   each target for that many executions (the long run)
#   scripts/fuzz.sh fuzz_inflate ...        only the targets named
# A crash, sanitizer report, timeout (10 s per input) or memory blow-up (2 GiB) fails, leaving
# the input in build/fuzz/artifacts/. Corpora grow in build/fuzz/corpus/TARGET (seeds included).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/clang_tools.sh

cmake -S . -B build/fuzz "${cmake_generator[@]}" -DCMAKE_CXX_COMPILER="$CLANG_CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  -DBWL_BUILD_FUZZERS=ON -DBWL_BUILD_TESTS=OFF -DBWL_BUILD_PYTHON=OFF -DBWL_ENABLE_CUDA=OFF >/dev/null
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_bigwig_reader fuzz_inflate fuzz_decode_fill fuzz_fasta)
cmake --build build/fuzz --parallel --target make_seed_corpora "${targets[@]}"
build/fuzz/fuzz/make_seed_corpora build/fuzz/corpus
mkdir -p build/fuzz/artifacts build/fuzz/tmp

if [ -n "${BWL_FUZZ_RUNS:-}" ]; then budget=(-runs="$BWL_FUZZ_RUNS"); else budget=(-max_total_time="${BWL_FUZZ_SECONDS:-60}"); fi
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The FASTA target's scratch file: on a tmpfs where there is one (much faster than a disk).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; else export TMPDIR="$PWD/build/fuzz/tmp"; fi
trap 'rm -f "$TMPDIR"/bwl_fuzz_fasta_*' EXIT  # the FASTA target's scratch files
for t in "${targets[@]}"; do
  echo "fuzz: $t (${budget[*]})"
  start=$(date +%s)
  log="build/fuzz/$t.log"
  if ! build/fuzz/fuzz/"$t" "${budget[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/"$t"- build/fuzz/corpus/"$t" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $t FAILED (log $log, input in build/fuzz/artifacts/)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: $t ok: $runs executions in $(( $(date +%s) - start )) s, corpus $(ls build/fuzz/corpus/"$t" | wc -l) inputs"
done
