#!/usr/bin/env bash
# The C++ tests under sanitizers (run by .ci/run after the normal suite):
#   1. AddressSanitizer + UndefinedBehaviorSanitizer, every C++ test; any report fails
#      (halt_on_error, -fno-sanitize-recover=all, leaks included);
#   2. ThreadSanitizer, the tests of the thread pool, thread starts, the loader, the CPU
#      backend, the block cache and the recycled host buffers (the code with threads).
# Builds in build/asan and build/tsan with Debian's clang (installed when missing). Run
# scripts/setup.sh first (CMake, ninja). Usage: scripts/sanitize.sh [asan|tsan]... (default both).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/clang_tools.sh

source scripts/real_data.sh  # BWL_REAL_DATA, as scripts/test.sh finds it

build() {  # build DIR FLAGS TARGET...
  cmake -S . -B "$1" "${cmake_generator[@]}" -DCMAKE_CXX_COMPILER="$CLANG_CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$2 -fno-omit-frame-pointer" -DBWL_BUILD_TESTS=ON -DBWL_BUILD_PYTHON=OFF \
    -DBWL_ENABLE_CUDA=OFF >/dev/null
  cmake --build "$1" --parallel --target "${@:3}"
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(asan tsan)
for part in "${parts[@]}"; do
  case "$part" in
    asan)
      build build/asan "-fsanitize=address,undefined -fno-sanitize-recover=all" bwl_cpp_tests bwl_allocation_tests
      echo "sanitize: C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
      ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
      UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        build/asan/tests/cpp/bwl_cpp_tests
      ASAN_OPTIONS="halt_on_error=1:detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        build/asan/tests/cpp/bwl_allocation_tests
      ;;
    tsan)
      # (not bwl_allocation_tests: it replaces operator new, which ThreadSanitizer's runtime owns)
      build build/tsan "-fsanitize=thread" bwl_cpp_tests
      echo "sanitize: thread pool, thread start, loader, CPU backend, block cache, host buffer, plan and descriptor pool tests under ThreadSanitizer"
      TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
        build/tsan/tests/cpp/bwl_cpp_tests \
        --gtest_filter='ThreadPool*:ThreadStart*:StreamedDataloader*:CpuBatchProcessor*:DevicePipeline*:BlockCache*:CachedBatches*:Preload*:HostBuffers*:BatchPlan*:DescriptorPool*'
      ;;
    *) echo "sanitize: unknown part '$part' (asan or tsan)" >&2; exit 2 ;;
  esac
done
echo "sanitize: no sanitizer reports"
