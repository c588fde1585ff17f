#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hetex ledger end to end: gen, run, state; a bad line named with its number and nothing of its
# block committed; refusals of another genesis, another block size, bad genesis files.
#   test_cli.sh path/to/hetex
set -u
hetex=$(realpath "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fails=0
check() {  # check "what" command...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
export HETEX_DEVICES=cpu

"$hetex" ledger gen --accounts 50 --txs 600 --zipf 1 --invalid 0.2 --seed 3 --genesis g.txt --out t.txt 2> err; rc=$?
check "gen: exit 0" test $rc -eq 0
check "gen: 50 genesis lines" test "$(wc -l < g.txt)" -eq 50
check "gen: 600 transfer lines of 5 fields" test "$(awk 'NF == 5' t.txt | wc -l)" -eq 600
"$hetex" ledger gen --accounts 50 --txs 600 --zipf 1 --invalid 0.2 --seed 3 --genesis g2.txt --out t2.txt 2> /dev/null
check "gen: the same seed gives the same files" cmp -s t.txt t2.txt
"$hetex" ledger gen --accounts 0 --txs 5 --genesis x --out y > /dev/null 2>&1; rc=$?
check "gen: zero accounts is bad usage" test $rc -eq 2

if "$hetex" ledger state --db nowhere 2>&1 | grep -q "without RocksDB"; then
  echo "skipping the run and state checks: this hetex has no RocksDB"
  [[ $fails -eq 0 ]] && exit 0 || exit 1
fi

"$hetex" ledger run --db db --genesis g.txt --block-size 100 --receipts r.txt t.txt > out.txt 2> err; rc=$?
check "run: exit 0" test $rc -eq 0
check "run: a line per block" test "$(grep -c '^block [1-6] txs 100 accepted [0-9]* rejected [0-9]* merkle [0-9a-f]\{64\} hash [0-9a-f]\{64\}$' out.txt)" -eq 6
check "run: a summary" grep -q '^summary: blocks 1-6, 600 transactions' out.txt
check "run: 600 receipts" test "$(wc -l < r.txt)" -eq 600
check "run: receipts name every kind of rejection" \
  test "$(awk '{print $4}' r.txt | sort -u | tr '\n' ,)" = "applied,bad_nonce,bad_signature,insufficient_balance,unknown_sender,"
applied=$(grep -c ' applied$' r.txt)
check "run: the summary's counts are the receipts'" grep -q "receipts: applied $applied " out.txt
accepted=$(awk '/^block/ {s += $6} END {print s}' out.txt)
check "run: the blocks' accepted counts add up" test "$accepted" -eq "$applied"

"$hetex" ledger state --db db > s.txt 2> err; rc=$?
check "state: exit 0" test $rc -eq 0
check "state: the height on stderr" grep -q 'at block 6 (hash [0-9a-f]\{64\})' err
check "state: sorted by key" sort -c s.txt
check "state: three fields per account" test "$(awk 'NF != 3' s.txt | wc -l)" -eq 0
check "state: at least the genesis accounts" test "$(wc -l < s.txt)" -ge 50
total=$(awk '{s += $2} END {print s}' s.txt)
check "state: no money made or lost" test "$total" -eq $((50 * 1000000))
key=$(head -n 1 s.txt | cut -d' ' -f1)
"$hetex" ledger state --db db "$key" > one.txt 2> /dev/null
check "state KEY: that account" test "$(cat one.txt)" = "$(head -n 1 s.txt)"
"$hetex" ledger state --db db "$key" 00000000000000000000000000000000000000000000000000000000000000aa nothex > two.txt 2> err; rc=$?
check "state: an unknown or malformed key is exit 1, named" \
  test $rc -eq 1 -a "$(grep -c 'no such account\|not a public key' err)" -eq 2 -a "$(wc -l < two.txt)" -eq 1

"$hetex" ledger run --db db --genesis g.txt --block-size 100 t.txt > again.txt 2> err; rc=$?
check "run again: nothing to do, exit 0" test $rc -eq 0 -a -n "$(grep 'nothing to do' again.txt)"
check "run again: says where it resumes" grep -q 'resuming after block 6' err

"$hetex" ledger gen --accounts 50 --txs 10 --seed 4 --genesis other.txt --out o.txt 2> /dev/null
"$hetex" ledger run --db db --genesis other.txt --block-size 100 t.txt > /dev/null 2> err; rc=$?
check "run: a database from another genesis is refused (exit 2)" test $rc -eq 2 -a -n "$(grep 'another genesis' err)"
"$hetex" ledger run --db db --genesis g.txt --block-size 50 t.txt > /dev/null 2> err; rc=$?
check "run: another block size is refused" test $rc -eq 2 -a -n "$(grep -- '--block-size 100, not 50' err)"
"$hetex" ledger state --db db > s2.txt 2> /dev/null
check "run: a refused run changed nothing" cmp -s s.txt s2.txt

# A bad line in block 3: blocks 1 and 2 commit, nothing of block 3.
awk 'NR == 250 {print $0 " memo"; next} {print}' t.txt > bad.txt
"$hetex" ledger run --db bad.db --genesis g.txt --block-size 100 bad.txt > bad.out 2> err; rc=$?
check "bad line: exit 1" test $rc -eq 1
check "bad line: named with its number and reason" grep -q 'bad.txt: line 250 (block 3, nothing of it committed): unexpected field 6' err
check "bad line: blocks 1-2 committed" grep -q 'blocks 1-2 are committed' err
"$hetex" ledger state --db bad.db > /dev/null 2> err
check "bad line: the database is at block 2" grep -q 'at block 2 ' err
printf 'hello\n' > junk.txt
"$hetex" ledger run --db junk.db --genesis g.txt junk.txt > /dev/null 2> err; rc=$?
check "bad line: a first line that is not a transfer" test $rc -eq 1 -a -n "$(grep 'line 1 (block 1' err)"

# Bad genesis files: nothing is created.
{ cat g.txt; head -n 1 g.txt; } > dup.txt
"$hetex" ledger run --db dup.db --genesis dup.txt t.txt > /dev/null 2> err; rc=$?
check "genesis: a duplicate account is refused, both lines named" \
  test $rc -eq 2 -a -n "$(grep 'genesis line 51: account [0-9a-f]* is already given on line 1' err)"
check "genesis: no database created for it" test ! -e dup.db
sed '3s/ / x/' g.txt > malformed.txt
"$hetex" ledger run --db m.db --genesis malformed.txt t.txt > /dev/null 2> err; rc=$?
check "genesis: a malformed line is named" test $rc -eq 2 -a -n "$(grep 'genesis line 3: ' err)"
"$hetex" ledger run --db m.db --genesis g.txt missing.txt > /dev/null 2> err; rc=$?
check "run: a missing input is exit 2, named" test $rc -eq 2 -a -n "$(grep 'missing.txt' err)"
"$hetex" ledger run --db gpu.db --genesis g.txt --device gpu t.txt > /dev/null 2> err; rc=$?
HETEX_DEVICES= "$hetex" devices 2>/dev/null | grep -q '^cuda' || \
  check "run: --device gpu without a GPU is exit 2" test $rc -eq 2

# The trace shows the stages; the metrics registry names them.
"$hetex" ledger run --db tr.db --genesis g.txt --block-size 100 --trace trace.json t.txt > /dev/null 2>&1
check "trace: a track per stage" \
  test "$(grep -o 'ledger \(parse\|verify\|hash\|execute\|commit\)' trace.json | sort -u | wc -l)" -eq 5

echo "ledger cli: $fails failure(s)"
[[ $fails -eq 0 ]]
