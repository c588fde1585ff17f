#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash and resume: `hetex ledger run --sync` is killed (SIGKILL) at random moments and started
# again with the same database and input until it finishes; its state, receipts and tip must
# equal those of an uninterrupted run: no transaction lost, none applied twice.
#   test_crash_resume.sh path/to/hetex [rounds]
set -u
hetex=$(realpath "$1")
rounds=${2:-4}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fails=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
export HETEX_DEVICES=cpu
if "$hetex" ledger state --db nowhere 2>&1 | grep -q "without RocksDB"; then
  echo "skipped: this hetex has no RocksDB"
  exit 0
fi

"$hetex" ledger gen --accounts 300 --txs 10000 --zipf 1.1 --invalid 0.05 --seed 9 --genesis g.txt --out t.txt 2> /dev/null
run=("$hetex" ledger run --genesis g.txt --block-size 200 --threads 2)
start=$(date +%s%N)
"${run[@]}" --db ref.db --receipts ref.receipts t.txt > ref.out 2> ref.err || { echo "FAIL the uninterrupted run"; cat ref.err; exit 1; }
ms=$((($(date +%s%N) - start) / 1000000 + 1))
"$hetex" ledger state --db ref.db > ref.state 2> ref.tip
echo "uninterrupted run: ${ms} ms, $(grep -c '^block' ref.out) blocks"

kills=0 partial=0
for round in $(seq "$rounds"); do
  rm -rf db receipts
  runs=0
  while :; do
    runs=$((runs + 1))
    "${run[@]}" --db db --sync --receipts receipts t.txt > "out.$round.$runs" 2> "err.$round.$runs" &
    pid=$!
    if ((runs <= 6)); then
      # Anywhere from before the database exists to past the end of a whole run.
      delay=$((RANDOM * RANDOM % (ms * 6 / 5 + 1)))
      sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
      kill -KILL "$pid" 2> /dev/null && kills=$((kills + 1))
    fi
    { wait "$pid"; } 2> /dev/null
    rc=$?
    grep -q 'resuming after block [1-9]' "err.$round.$runs" && partial=$((partial + 1))
    [[ $rc -eq 0 ]] && break
    if [[ $rc -ne 137 ]]; then
      echo "FAIL round $round run $runs: exit $rc"
      cat "err.$round.$runs"
      fails=$((fails + 1))
      break
    fi
  done
  "$hetex" ledger state --db db > state 2> tip
  check "round $round ($runs runs): the same accounts" cmp -s state ref.state
  check "round $round: the same receipts" cmp -s receipts ref.receipts
  check "round $round: the same tip" cmp -s tip <(sed 's/ref\.db/db/' ref.tip)
done
echo "$kills kills; $partial runs resumed after a committed block"
check "some runs were killed" test "$kills" -gt 0
check "some runs resumed from a partly committed chain" test "$partial" -gt 0
[[ $fails -eq 0 ]]
