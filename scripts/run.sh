#!/usr/bin/env bash
# The main job: set up, build (with CUDA when nvcc is present) and run hetex on whatever
# hardware this machine has.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target hetex-demo
exec build/default/apps/demo/hetex-demo "$@"
