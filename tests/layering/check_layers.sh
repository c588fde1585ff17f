#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Each layer of the library includes only itself and the layers below it (docs/design/
# memory-and-transfers.md: memory depends on core alone, so memory and async form no cycle).
# Levels: core 0, memory 1, async 2, exec 3, parallel and ops 4 (siblings: neither includes the
# other), metrics 5. Checks include/hetex/<layer>/ and src/<layer>/ (both "hetex/<layer>/..."
# and src-relative "<layer>/..." includes).
set -euo pipefail
root=${1:-$(dirname "$0")/../..}
declare -A level=([core]=0 [memory]=1 [async]=2 [exec]=3 [parallel]=4 [ops]=4 [metrics]=5)
bad=0
for layer in "${!level[@]}"; do
  for dir in "$root/include/hetex/$layer" "$root/src/$layer"; do
    [[ -d $dir ]] || continue
    while IFS= read -r line; do
      file=${line%%:*}
      target=$(sed -E 's/.*#include "(hetex\/)?([a-z_]+)\/.*/\2/' <<<"${line#*:}")
      [[ -v level[$target] ]] || continue
      if [[ $target != "$layer" ]] && (( level[$target] >= level[$layer] )); then
        echo "layering: ${file#$root/} ($layer) includes $target: ${line#*:}"
        bad=1
      fi
    done < <(grep -rE '^#include "(hetex/)?[a-z_]+/' "$dir" || true)
  done
done
# Distribution and the ledger sit on the public API: they include hetex/... headers (never
# hetex/detail) and their own folder, nothing private of the library.
for part in dist ledger; do
  for dir in "$root/include/hetex/$part" "$root/src/$part"; do
    [[ -d $dir ]] || continue
    while IFS= read -r line; do
      echo "layering: ${line%%:*} ($part) includes a private header: ${line#*:}"
      bad=1
    done < <(grep -rE '^#include "' "$dir" | grep -vE "#include \"(hetex/|$part/)" | grep -vE '#include "[a-z_]+\.(hpp|inc)"' || true;
             grep -rE '^#include "hetex/detail/' "$dir" || true)
  done
done
# A backend (src/cuda, src/sim, src/vulkan) implements core's interface with core, memory and
# async; only the files with the Vulkan kernels of built-in operations (src/vulkan/ops*,
# lane_ops.hpp, user_kernel.cpp) sit at the ops level.
for backend in cuda sim vulkan; do
  dir=$root/src/$backend
  [[ -d $dir ]] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    case ${file##*/} in ops*|lane_ops.hpp|user_kernel.cpp) continue ;; esac
    echo "layering: ${file#$root/} (the $backend backend) includes a layer above async: ${line#*:}"
    bad=1
  done < <(grep -rE '^#include "(hetex/)?(exec|parallel|ops|metrics|dist|ledger)/' "$dir" || true)
done
if (( bad )); then
  echo "layering: a layer may include only the layers below it (core < memory < async < exec < parallel, ops < metrics;"
  echo "  backends: core, memory, async; dist and ledger: the public headers)"
  exit 1
fi
echo "layering: every layer includes only the layers below it"
