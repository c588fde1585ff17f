#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs hetex's build dependencies on Debian 12 when any is missing (nothing else is
# downloaded). The CUDA backend is built when nvcc is on PATH or in /usr/local/cuda/bin.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config libtbb-dev libgtest-dev libgmock-dev libbenchmark-dev
          libssl-dev libsodium-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libstb-dev prometheus
          libopencv-imgproc-dev  # OpenCV: a comparator for tests and benchmarks only
          librocksdb-dev         # RocksDB: the ledger's store
          libabsl-dev            # Abseil: the ledger's account table (flat_hash_map)
          openmpi-bin libopenmpi-dev  # Open MPI: hetex::dist and its tests (mpirun on loopback)
          # The Vulkan backend: loader, glslc (build-time SPIR-V), glslang and SPIRV-Tools (run-time
          # GLSL); lavapipe (Mesa's CPU Vulkan driver) and the validation layer run its tests.
          libvulkan-dev glslc glslang-dev spirv-tools mesa-vulkan-drivers vulkan-validationlayers
          clang-14 libclang-rt-14-dev   # libFuzzer, for the fuzz build (tests/fuzz)
          clang-format-14               # the style check (scripts/check-format.sh)
          doxygen)                      # the API reference (the docs target), checked by scripts/test.sh
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "hetex setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
