#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fuzzes each harness for a bounded time, starting from its corpus (copied to a scratch
# directory: the inputs libFuzzer adds stay out of the tree).
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_HARNESS]     (the fuzz preset's build: build/fuzz)
# A crash, leak, time-out or out-of-memory leaves its input in BUILD_DIR/fuzz-findings/<harness>/.
# Fix the cause, add the input to tests/fuzz/corpus/<harness>/ (ctest replays it from then on) and
# a regression test beside the fixed code.
set -euo pipefail
build=$(realpath "$1")
seconds=${2:-10}
src=$(cd "$(dirname "$0")" && pwd)
status=0
for harness in "$build"/tests/fuzz/fuzz_*; do
  [[ -x $harness && -f $harness ]] || continue
  name=$(basename "$harness")
  work=$(mktemp -d)
  findings=$build/fuzz-findings/$name
  rm -rf "$findings" && mkdir -p "$findings"
  cp "$src/corpus/$name"/* "$work"/
  dict=()
  [[ -f $src/dict/$name.dict ]] && dict=(-dict="$src/dict/$name.dict")
  if "$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$findings/" "$work" > "$findings/log" 2>&1; then
    echo "ok   $name: $(grep -o 'number_of_executed_units: [0-9]*' "$findings/log" | grep -o '[0-9]*$') inputs in ${seconds} s"
  else
    echo "FAIL $name (input and log in $findings):"
    grep -A30 -m1 -E '^==[0-9]+==ERROR|runtime error|^fuzz_|deadly signal' "$findings/log" || tail -30 "$findings/log"
    status=1
  fi
  rm -rf "$work"
done
exit $status
