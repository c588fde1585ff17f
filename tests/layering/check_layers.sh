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
if (( bad )); then
  echo "layering: a layer may include only the layers below it (core < memory < async < exec < parallel, ops < metrics)"
  exit 1
fi
echo "layering: every layer includes only the layers below it"
