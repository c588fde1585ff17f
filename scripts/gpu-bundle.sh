#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepares a run on a bare GPU host (no dev packages, no network): builds Release for sm_90,
# copies the test and benchmark binaries and every non-system shared library they load (per
# ldd: librocksdb and its compression libraries among them) into gpu-bundle/ (git-ignored), with
# gpu-bundle/run.sh, which runs the GPU test suite and then the benchmarks, and
# gpu-bundle/ledger-bench.sh (hetex ledger bench), writing logs and JSON under $OUT (or
# gpu-bundle/out).
#
#   scripts/gpu-bundle.sh            then, on the GPU host:  gpu-bundle/run.sh [bench-filter]
#                                                            gpu-bundle/ledger-bench.sh [options]
# HETEX_BUNDLE_PRESET picks the build (default: gpu); "default" reuses the everyday CUDA build,
# which targets the same sm_90 + PTX, to save a rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${HETEX_BUNDLE_PRESET:-gpu}
cmake --preset "$preset" >/dev/null
# HETEX_BUNDLE_TARGETS="bench_scheduler hetex-cli" builds and ships only those (faster, when one benchmark is wanted).
targets=()
for t in ${HETEX_BUNDLE_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build --preset "$preset" -j"$(nproc)" "${targets[@]}"

out=gpu-bundle
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
for f in build/$preset/tests/test_* build/$preset/bench/bench_* build/$preset/apps/*/hetex* build/$preset/examples/example_*; do
  name=$(basename "$f")
  [[ $name == hetex ]] && name=hetex-cli
  if [[ -n ${HETEX_BUNDLE_TARGETS:-} && " $HETEX_BUNDLE_TARGETS " != *" $name "* ]]; then continue; fi
  # Suites that never touch a GPU stay behind: CI runs them, and the bundle stays small.
  [[ -z ${HETEX_BUNDLE_TARGETS:-} && $name =~ ^test_(async|memory|metrics)$ ]] && continue
  [[ -f "$f" && -x "$f" ]] && cp "$f" "$out/bin/$name"
done
# Symbols are not needed on the GPU host; stripped binaries keep the bundle small.
strip "$out"/bin/* 2>/dev/null || true
# The GPU host has a newer glibc and libstdc++, and its own driver (libcuda): never ship those.
# NVRTC (109 MB) is not shipped either: the GPU host's CUDA toolkit provides it (run.sh finds it).
# Nor the Vulkan loader (libvulkan), which the GPU host gets from Debian packages; the SPIR-V
# of hetex's kernels is inside the binaries, so no shader compiler is needed there.
system='^(linux-vdso|ld-linux|libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|libcuda|libnvidia|libnvrtc|libvulkan)[.-]'
for f in "$out"/bin/*; do
  ldd "$f" | awk '/=> \// {print $3}'
done | sort -u | while read -r lib; do
  base=$(basename "$lib")
  [[ "$base" =~ $system ]] || cp -L "$lib" "$out/lib/"
done
# hetex::dist: mpirun and Open MPI's plugins travel as .deb files (gpu-bundle/mpi), unpacked on
# the GPU host by dist.sh (the distributed benchmark: gpu-bundle/dist.sh).
if [[ -x $out/bin/bench_dist ]]; then
  cp bench/dist.sh "$out/dist.sh"
  scripts/gpu-mpi-debs.sh
fi

# HETEX_BUNDLE_VALIDATION=1: the Khronos validation layer too (22 MB), so that the Vulkan suite
# runs validated on the GPU host as it does here.
if [[ ${HETEX_BUNDLE_VALIDATION:-0} == 1 ]]; then
  mkdir -p "$out/vulkan-layers"
  cp -L /usr/lib/x86_64-linux-gnu/libVkLayer_khronos_validation.so "$out/vulkan-layers/"
  sed 's|"library_path": *"[^"]*"|"library_path": "./libVkLayer_khronos_validation.so"|' \
    /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json > "$out/vulkan-layers/VkLayer_khronos_validation.json"
fi

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the GPU test suite, then the benchmarks. Usage: run.sh [benchmark filter regex]
# HETEX_TESTS: which test binaries (glob, default test_*); HETEX_BENCH: which benchmarks
# (default bench_*); HETEX_TIMEOUT: seconds per binary (default 300), so a hang cannot stall the whole run.
here=$(cd "$(dirname "$0")" && pwd)
cuda_lib=$(dirname "$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")/lib64
export LD_LIBRARY_PATH="$here/lib:$cuda_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Vulkan: NVIDIA's driver file where the host has it (unless the caller picked one), and the
# bundled validation layer if there is one.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[[ -z ${VK_DRIVER_FILES:-} && -f $nvidia_icd ]] && export VK_DRIVER_FILES=$nvidia_icd
[[ -d $here/vulkan-layers ]] && export VK_LAYER_PATH="$here/vulkan-layers${VK_LAYER_PATH:+:$VK_LAYER_PATH}"
out=${OUT:-$here/out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_mode,clocks.sm,clocks.max.sm --format=csv || true
status=0
limit=${HETEX_TIMEOUT:-300}
for t in "$here"/bin/${HETEX_TESTS:-test_*}; do
  name=$(basename "$t")
  echo "=== $name"
  if [[ $name == *_fault ]]; then
    # a fault retires the GPU for the rest of its process: one process per test
    rc=0
    for test in $("$t" --gtest_list_tests | awk '/^[^ ]/ {suite=$1} /^  / {print suite $1}'); do
      timeout "$limit" "$t" --gtest_filter="$test" >> "$out/$name.log" 2>&1 || rc=1
    done
  else
    timeout "$limit" "$t" --gtest_output="xml:$out/$name.xml" > "$out/$name.log" 2>&1
    rc=$?
  fi
  grep -E '^\[  (FAILED|SKIPPED|PASSED) |^\[==========\]|Failure|error:|Expected|Which is|actual' "$out/$name.log" | tail -n 40
  if [[ $rc -ne 0 ]]; then
    status=1
    [[ $rc -eq 124 ]] && { echo "!!! $name timed out after ${limit}s; last lines:"; tail -n 5 "$out/$name.log"; }
  fi
done
[[ ${HETEX_SKIP_BENCH:-0} == 1 ]] && exit $status
for b in "$here"/bin/${HETEX_BENCH:-bench_*}; do
  name=$(basename "$b")
  [[ $name == bench_dist ]] && continue  # MPI ranks: dist.sh runs it
  echo "=== $name"
  timeout "$limit" "$b" --benchmark_filter="${1:-.}" --benchmark_min_time=0.2 --benchmark_out="$out/$name.json" \
       --benchmark_out_format=json 2>&1 | tee "$out/$name.log" | grep -v '^\*\*\*'
done
exit $status
RUN
chmod +x "$out/run.sh"

cat > "$out/ledger-bench.sh" <<'RUN'
#!/usr/bin/env bash
# The ledger's figures (hetex ledger bench): end to end CPU only against CPU + GPU, the parallel
# executor against the sequential one, verification on every CPU core against the GPU. Arguments
# go to `hetex ledger bench` (default: 1M accounts, 1M transfers); JSON to $OUT/ledger.json.
here=$(cd "$(dirname "$0")" && pwd)
cuda_lib=$(dirname "$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")/lib64
export LD_LIBRARY_PATH="$here/lib:$cuda_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
out=${OUT:-$here/out}
mkdir -p "$out"
exec "$here/bin/hetex-cli" ledger bench --json "$out/ledger.json" "$@"
RUN
chmod +x "$out/ledger-bench.sh"
du -sh "$out"
ls "$out/bin" "$out/lib"
