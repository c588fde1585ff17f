#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   0. The sources are formatted as .clang-format says (scripts/check-format.sh)
#   1. Release build with CUDA when nvcc is present: every test (GPU tests skip without a GPU;
#      the "dist" tests run MPI jobs of 1 and 3 ranks on loopback where Open MPI is installed)
#   2. AddressSanitizer + UndefinedBehaviorSanitizer, without CUDA (HETEX_CUDA=OFF): every CPU
#      test again; this is also the proof that hetex builds and passes without the CUDA backend
#   3. ThreadSanitizer, without CUDA and without Vulkan: the concurrency tests (async and exec
#      layers, the ledger) again; TBB runs serially there (tests/serial_tbb_under_tsan.cpp says why).
#      The benchmarks are built there too: the ones a machine without CUDA builds, optimised.
#   4. libFuzzer (clang): each parser of user input replays its corpus, then is fuzzed 10 s
# Every build treats compiler warnings as errors (HETEX_WERROR).
# The first two have the Vulkan backend (HETEX_VULKAN=ON: setup.sh installs what it needs), so the
# Vulkan suite (label "vulkan") runs for real on lavapipe in both.
# After the first build, the install tree is checked as a user sees it (CMake package, pkg-config).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/check-format.sh
jobs=$(nproc)
for preset in default asan tsan; do
  echo "=== hetex: $preset build ($(date -u +%T))"
  if [[ $preset == tsan ]]; then
    cmake --preset "$preset" -DHETEX_WERROR=ON -DHETEX_VULKAN=OFF -DHETEX_BUILD_BENCH=ON >/dev/null
    cmake --build --preset "$preset" -j"$jobs" --target test_async test_exec test_ledger benchmarks
    # TSan and ASLR on newer kernels disagree; run without randomization where possible
    setarch "$(uname -m)" -R true 2>/dev/null && run=(setarch "$(uname -m)" -R) || run=()
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" "${run[@]}" \
      ctest --preset "$preset" -L "async|exec|ledger" -E "^ledger_" -j"$jobs"
  else
    cmake --preset "$preset" -DHETEX_WERROR=ON -DHETEX_VULKAN=ON >/dev/null
    cmake --build --preset "$preset" -j"$jobs"
    # LeakSanitizer: what third-party drivers keep until exit is not hetex's leak (tests/lsan.supp).
    LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" ctest --preset "$preset" -j"$jobs"
  fi
  if [[ $preset == default ]]; then
    echo "=== hetex: install, then build and run a consumer against it"
    tests/consumer/check_install.sh build/default
  fi
done
if command -v doxygen >/dev/null; then  # the API reference (Doxygen): no warning about a public header
  cmake --build --preset asan --target docs 2>&1 | tee build/asan/docs.log; ! grep 'include/hetex/.*warning' build/asan/docs.log || exit 1
fi
echo "=== hetex: fuzz build: every corpus, then each harness fuzzed for 10 s ($(date -u +%T))"
cmake --preset fuzz -DHETEX_WERROR=ON >/dev/null
cmake --build --preset fuzz -j"$jobs"
ctest --preset fuzz -j"$jobs"
tests/fuzz/run.sh build/fuzz 10
echo "=== hetex: all test builds passed ($(date -u +%T))"
