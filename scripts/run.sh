#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: set up, build (with CUDA when nvcc is present) and run `hetex bench` on whatever
# hardware this machine has: every workload on CPU 1 thread, all cores, each GPU and the hybrid
# scheduler, beside OpenSSL, libsodium, std::execution and Thrust. Prints the table; writes
# build/bench.json and build/bench.html. Extra arguments go to hetex bench (e.g. --suite full).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target hetex-cli
build/default/apps/hetex/hetex devices
exec build/default/apps/hetex/hetex bench --json build/bench.json --html build/bench.html "$@"
