#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes docs/benchmarks.md from a report that `hetex bench --json FILE` saved:
#   scripts/benchmarks-page.sh bench.json [HETEX]      (HETEX: the hetex binary to render with)
# The page holds the machine, every workload's series beside the comparators measured in the same
# run, and the figures of the targeted benchmarks kept in docs/benchmarks-targets.md.
set -euo pipefail
cd "$(dirname "$0")/.."
json=${1:?usage: scripts/benchmarks-page.sh bench.json [path/to/hetex]}
hetex=${2:-build/default/apps/hetex/hetex}
page=docs/benchmarks.md
tmp=$(mktemp "$page.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  echo "# Benchmarks"
  echo
  echo "What \`hetex bench\` measured, every comparator in the same run on the same machine."
  echo "Regenerate with \`hetex bench --suite full --json bench.json\`, then"
  echo "\`scripts/benchmarks-page.sh bench.json\`."
  echo
  "$hetex" report "$json" --format markdown
  if [[ -f docs/benchmarks-targets.md ]]; then
    echo
    cat docs/benchmarks-targets.md
  fi
} > "$tmp"
mv "$tmp" "$page"
trap - EXIT
echo "wrote $page"
