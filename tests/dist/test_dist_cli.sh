#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The hetex command line as a job of MPI ranks on this host, end to end:
#   test_dist_cli.sh path/to/hetex path/to/mpirun.sh
# Each command's output under mpirun is byte for byte that of one process, whatever the number
# of ranks (1, 3, more than there are chunks), with a slow rank, with inputs every rank reads
# itself (this host is a "shared file system") and inputs rank 0 reads for all. A rank killed or
# hung mid-job ends it with an error naming the rank, leaves complete output, and the journal
# resumes it computing only what was missing.
set -u
hetex=$(realpath "$1")
mpi=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fails=0
check() {  # check "what" condition...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
export HETEX_DEVICES=cpu  # the same answers on any machine
host=$(hostname)
run3() { "$mpi" 3 "$hetex" "$@"; }

# --- inputs -----------------------------------------------------------------------------------
# verify: the RFC 8032 vectors, corrupted copies and malformed lines, 24000 lines in a pattern.
pk1=d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
sig1=e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
pk2=3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c
sig2=92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00
msg2=72
awk -v pk1=$pk1 -v s1=$sig1 -v pk2=$pk2 -v s2=$sig2 -v m2=$msg2 'BEGIN {
  for (i = 1; i <= 24000; i++) {
    k = i % 7
    if (k == 0) print pk1 " " s1 " "
    else if (k == 1) print pk2 " " s2 " " m2
    else if (k == 2) print pk2 " " s2 " 73"
    else if (k == 3) print pk1 " " s1 " 00"
    else if (k == 4) print "not a line " i
    else if (k == 5) print pk1 " " substr(s1, 1, 126) " "
    else print pk2 " " s2 " " m2
  }
}' > sigs.txt
printf '%s %s %s' $pk2 $sig2 $msg2 > last-line-without-newline.txt
"$hetex" verify --input sigs.txt > verify.ref 2> verify.err; verify_rc=$?
check "verify: the reference run (one process) works" test $verify_rc -eq 1 -a "$(wc -l < verify.ref)" -eq 24000

# sha256: files of many sizes, an empty one, a missing one.
mkdir files sub
for i in $(seq 1 60); do head -c $(( (i * 7919) % 50000 )) /dev/urandom > files/f$i; done
: > files/empty
head -c 3000000 /dev/urandom > files/big
sha_args=(files/f1 files/empty files/missing files/big)
for i in $(seq 2 60); do sha_args+=(files/f$i); done
"$hetex" sha256 "${sha_args[@]}" > sha.ref 2> /dev/null; sha_rc=$?
check "sha256: the reference run (one process) works" test $sha_rc -eq 1 -a "$(wc -l < sha.ref)" -eq 62

# image: small PPM and PGM images of several sizes, and a file that is not an image.
mkdir img
for i in $(seq 1 9); do
  w=$((17 + i * 5)) h=$((11 + i * 3))
  { printf 'P6\n%d %d\n255\n' $w $h; head -c $((w * h * 3)) /dev/urandom; } > img/c$i.ppm
  { printf 'P5\n%d %d\n255\n' $h $w; head -c $((w * h)) /dev/urandom; } > img/g$i.pgm
done
echo "not an image" > img/broken.ppm
"$hetex" image --batch img img.ref --blur 1.5 --edges --quiet 2> /dev/null; image_rc=$?
check "image: the reference run (one process) works" test $image_rc -eq 1 -a "$(ls img.ref | wc -l)" -eq 18

same_dirs() {  # same_dirs A B: the same files, byte for byte
  [[ $(ls "$1") == "$(ls "$2")" ]] || return 1
  local f
  for f in "$1"/*; do cmp -s "$f" "$2/$(basename "$f")" || return 1; done
}

# --- byte-identical output, ordering ------------------------------------------------------------
run3 verify --input sigs.txt --chunk-seconds 0.005 > v3.out 2> v3.err; rc=$?
check "verify, 3 ranks: output identical to one process" cmp -s v3.out verify.ref
check "verify, 3 ranks: the same exit status (1: malformed lines)" test $rc -eq $verify_rc
check "verify, 3 ranks: one summary, from rank 0" test "$(grep -c '24000 lines: ' v3.err)" -eq 1
check "verify, 3 ranks: every rank took a share" test "$(grep -o 'rank [0-9] (host [^)]*) [0-9.]*% ([1-9][0-9]* chunks' v3.err | wc -l)" -eq 3
HETEX_DIST_READ=root run3 verify --input sigs.txt --chunk-seconds 0.005 > v3r.out 2> /dev/null
check "verify, 3 ranks, rank 0 reads for all: identical output" cmp -s v3r.out verify.ref
run3 verify --input - --chunk-seconds 0.005 < sigs.txt > v3s.out 2> /dev/null
check "verify, 3 ranks, standard input: identical output" cmp -s v3s.out verify.ref
"$hetex" verify --input last-line-without-newline.txt > nl.ref 2> /dev/null
run3 verify --input last-line-without-newline.txt > nl.out 2> /dev/null
check "verify, 3 ranks: a last line without a newline (more ranks than chunks)" cmp -s nl.out nl.ref

run3 sha256 "${sha_args[@]}" > s3.out 2> s3.err; rc=$?
check "sha256, 3 ranks: output identical to one process" cmp -s s3.out sha.ref
check "sha256, 3 ranks: the same exit status (1: unreadable inputs)" test $rc -eq $sha_rc
check "sha256, 3 ranks: the missing file is named" grep -q files/missing s3.err
run3 sha256 files/f1 sub files/f2 > dir.out 2> dir.err; rc=$?
check "sha256, 3 ranks: a directory is an input error, named (status $rc)" test $rc -eq 1 -a -n "$(grep 'sub: is a directory' dir.err)"
check "sha256, 3 ranks: the other files are still hashed" test "$(wc -l < dir.out)" -eq 2
run3 sha256 "${sha_args[@]}" --output s3o.out > s3o.stdout 2> /dev/null
check "sha256, 3 ranks, --output FILE: the file holds the output, standard output nothing" \
  test -z "$(cat s3o.stdout)" -a -n "$(cmp s3o.out sha.ref && echo same)"
check "sha256, 3 ranks, --output FILE: nothing partial is left" test ! -e s3o.out.partial
HETEX_DIST_READ=root run3 sha256 "${sha_args[@]}" > s3r.out 2> /dev/null
check "sha256, 3 ranks, rank 0 reads for all: identical output" cmp -s s3r.out sha.ref
printf 'abc' | "$hetex" sha256 files/f1 - files/f2 > stdin.ref
printf 'abc' | run3 sha256 files/f1 - files/f2 > stdin.out 2> /dev/null
check "sha256, 3 ranks: standard input among files" cmp -s stdin.out stdin.ref
"$hetex" sha256 files/f3 > one.ref
run3 sha256 files/f3 > one.out 2> /dev/null
check "sha256, 3 ranks, one file (more ranks than chunks)" cmp -s one.out one.ref

run3 image --batch img img.3 --blur 1.5 --edges --quiet > /dev/null 2> i3.err; rc=$?
check "image --batch, 3 ranks: every output identical to one process" same_dirs img.3 img.ref
check "image --batch, 3 ranks: the same exit status (1: a broken input)" test $rc -eq $image_rc
check "image --batch, 3 ranks: the broken file is named" grep -q 'broken.ppm' i3.err
check "image --batch, 3 ranks: no temporary files left" test -z "$(ls -a img.3 | grep -e hetex-tmp -e hetex-probe)"
HETEX_DIST_READ=root run3 image --batch img img.3r --blur 1.5 --edges --quiet > /dev/null 2>&1
check "image --batch, 3 ranks, rank 0 reads and writes for all: identical outputs" same_dirs img.3r img.ref

"$mpi" 1 "$hetex" verify --input sigs.txt > v1.out 2> /dev/null
check "verify, 1 rank: output identical to one process" cmp -s v1.out verify.ref
"$mpi" 1 "$hetex" sha256 "${sha_args[@]}" > s1.out 2> /dev/null
check "sha256, 1 rank: output identical to one process" cmp -s s1.out sha.ref
"$mpi" 1 "$hetex" image --batch img img.1 --blur 1.5 --edges --quiet > /dev/null 2>&1
check "image --batch, 1 rank: identical outputs" same_dirs img.1 img.ref

# --- a slow rank ------------------------------------------------------------------------------------
# A twentieth: on a loaded machine (three ranks on two cores, sanitizers) the others' own speeds
# vary by a factor of two, which a fifth would not stand out from. Its share stays above what its
# two first chunks (probes of unknown speed) hold, a tenth of this input; an equal split would
# give it as much as the others.
HETEX_DIST_FAULTS=speed=1:0.05 run3 verify --input sigs.txt --chunk-seconds 0.01 > slow.out 2> slow.err
check "a rank at a twentieth of its speed: output still identical" cmp -s slow.out verify.ref
share() { grep -o "rank $1 (host [^)]*) [0-9.]*%" slow.err | grep -o '[0-9.]*%$' | tr -d %; }
check "a rank at a twentieth of its speed takes a smaller share ($(share 1)% vs $(share 2)%)" \
  awk -v a="$(share 1)" -v b="$(share 2)" 'BEGIN { exit !(a + 0 < 0.75 * b) }'

# --- devices, metrics, trace ----------------------------------------------------------------------
run3 devices --skip-bandwidth > dev.txt 2> /dev/null
check "devices, 3 ranks: each rank's devices, rank by rank" test "$(grep -c "^rank [0-2] on $host" dev.txt)" -eq 3
check "devices, 3 ranks: the MPI library and whether it is CUDA-aware" grep -q '^mpi .*CUDA-aware' dev.txt
run3 devices --skip-bandwidth --json > dev.json 2> /dev/null
check "devices --json, 3 ranks: three ranks with their CPU" test "$(grep -c '"logical_cores"' dev.json)" -eq 3
run3 sha256 "${sha_args[@]}" --trace trace.json > /dev/null 2>&1
check "--trace, 3 ranks: one process row per rank" \
  test "$(grep -o '"name":"rank [0-2] (host [^)]*)"' trace.json | sort -u | wc -l)" -eq 3
check "--trace: the ranks' chunks and their devices' rows" grep -q '"name":"job"' trace.json

http_get() {  # http_get PORT PATH
  exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&4
  timeout 10 cat <&4
  exec 4>&-
}
mkfifo held
run3 sha256 --metrics-port 0 --rank-timeout 30 - < held > /dev/null 2> metrics.err &
job=$!
exec 5> held  # the job reads standard input until this closes
ports=()
for _ in $(seq 100); do
  [[ $(grep -c 'metrics at http' metrics.err) -ge 3 ]] && break
  sleep 0.1
done
for r in 0 1 2; do ports[$r]=$(grep "rank $r metrics at" metrics.err | sed 's/.*:\([0-9]*\)\/metrics.*/\1/'); done
check "--metrics-port, 3 ranks: every rank serves /metrics" test -n "${ports[0]}" -a -n "${ports[1]}" -a -n "${ports[2]}"
if [[ -n ${ports[2]} ]]; then
  check "rank 2's /metrics carries rank=\"2\"" grep -q 'rank="2"' <(http_get "${ports[2]}" /metrics)
  all=""
  for _ in $(seq 50); do  # the other ranks' snapshots come with their heartbeats
    all=$(http_get "${ports[0]}" /metrics/all)
    [[ $all == *'rank="1"'* && $all == *'rank="2"'* ]] && break
    sleep 0.2
  done
  check "rank 0's /metrics/all holds every rank's series" test -n "$(grep 'rank="1"' <<< "$all")" -a -n "$(grep 'rank="2"' <<< "$all")"
  check "rank 0's /metrics/all declares each family once" \
    test "$(grep -c '^# TYPE hetex_dist_chunks_total ' <<< "$all")" -eq 1
fi
exec 5>&-
wait $job

# --- a rank killed mid-job, then resumed from the journal -------------------------------------------
awk '{ for (i = 0; i < 6; i++) print }' sigs.txt > many.txt  # 144000 lines
"$hetex" verify --input many.txt > many.ref 2> /dev/null
echo "an earlier run's output" > killed.out
HETEX_DIST_FAULTS=kill=2@4 run3 verify --input many.txt --chunk-seconds 0.02 --journal j1 --output killed.out 2> killed.err; rc=$?
check "a rank killed mid-job: the job fails (status $rc)" test $rc -ne 0
check "a rank killed mid-job: hetex names the rank and its host" grep -q "rank 2 (host $host) gave no notice: it died or was killed" killed.err
check "a rank killed mid-job: an earlier --output file is left as it was" test "$(cat killed.out)" = "an earlier run's output"
check "a rank killed mid-job: FILE.partial is whole lines" test ! -s killed.out.partial -o "$(tail -c 1 killed.out.partial | od -An -c | tr -d ' ')" = '\n'
check "a rank killed mid-job: FILE.partial is the start of the right output" \
  cmp -s killed.out.partial <(head -c "$(stat -c %s killed.out.partial)" many.ref)
check "a rank killed mid-job: the journal holds chunks" test -s j1
# Standard output passes through mpirun, which may cut its last line when it aborts: what it
# shows is still the start of the right output.
HETEX_DIST_FAULTS=kill=1@3 run3 verify --input many.txt --chunk-seconds 0.02 > killed-stdout.out 2> /dev/null
check "a rank killed mid-job: standard output is the start of the right output" \
  cmp -s killed-stdout.out <(head -c "$(stat -c %s killed-stdout.out)" many.ref)
run3 verify --input many.txt --chunk-seconds 0.02 --journal j1 > resumed.out 2> resumed.err
check "resumed from the journal: the whole output, identical" cmp -s resumed.out many.ref
done_bytes=$(grep -o 'chunks ([0-9]* bytes of input) were done' resumed.err | grep -o '[0-9]* bytes' | grep -o '[0-9]*')
new_bytes=$(grep -o 'chunks ([0-9]* bytes of input) computed now' resumed.err | grep -o '[0-9]* bytes' | grep -o '[0-9]*')
check "resumed: the journal's chunks were not computed again (${done_bytes:-?} done + ${new_bytes:-?} new = $(stat -c %s many.txt))" \
  test -n "$done_bytes" -a -n "$new_bytes" -a "$((${done_bytes:-0} + ${new_bytes:-0}))" -eq "$(stat -c %s many.txt)" -a "${done_bytes:-0}" -gt 0

HETEX_DIST_FAULTS=kill=1@2 run3 image --batch img img.k --blur 1.5 --edges --quiet --journal j5 > /dev/null 2> ik.err; rc=$?
check "image --batch, a rank killed: the job fails (status $rc), the rank named" test $rc -ne 0 -a -n "$(grep "rank 1 (host $host)" ik.err)"
whole_outputs() {  # every output file already under its name is the complete image
  local f
  for f in img.k/*; do [[ -e $f && $f != *.hetex-tmp ]] || continue; cmp -s "$f" "img.ref/$(basename "$f")" || return 1; done
}
check "image --batch, a rank killed: the outputs already written are whole" whole_outputs
run3 image --batch img img.k --blur 1.5 --edges --quiet --journal j5 > /dev/null 2> ir.err
check "image --batch, resumed from the journal: every output identical" same_dirs img.k img.ref
check "image --batch, resumed: the journal's images were not redone" grep -q 'were done already' ir.err

# --- a rank that hangs ------------------------------------------------------------------------------
HETEX_DIST_FAULTS=hang=1@2 timeout 120 "$mpi" 3 "$hetex" sha256 "${sha_args[@]}" --chunk-seconds 0.001 --rank-timeout 2 \
  --journal j2 --output hung.out 2> hung.err; rc=$?
check "a hung rank: the job ends (status $rc), not the test's timeout" test $rc -ne 0 -a $rc -ne 124
check "a hung rank: hetex names it and its host" grep -Eq "rank 1 \(host $host\) (sent nothing|has held chunk)" hung.err
check "a hung rank: no output file of that name (the job is not complete)" test ! -e hung.out
check "a hung rank: the output so far is the start of the right output" \
  cmp -s hung.out.partial <(head -c "$(stat -c %s hung.out.partial)" sha.ref)
check "a hung rank: the output so far is whole lines" \
  test ! -s hung.out.partial -o "$(tail -c 1 hung.out.partial | od -An -c | tr -d ' ')" = '\n'
run3 sha256 "${sha_args[@]}" --journal j2 > hung-resumed.out 2> /dev/null
check "a hung rank: resumed from the journal, identical" cmp -s hung-resumed.out sha.ref

# --- the journal without MPI ----------------------------------------------------------------------
"$hetex" verify --input sigs.txt --journal j3 > local.out 2> /dev/null
check "--journal in one process: identical output" cmp -s local.out verify.ref
"$hetex" verify --input sigs.txt --journal j3 > local2.out 2> local2.err
check "--journal in one process, again: all from the journal" grep -q ' 0 chunks (0 bytes of input) computed now' local2.err
check "--journal in one process, again: identical output" cmp -s local2.out verify.ref
"$hetex" verify --input many.txt --journal j3 > /dev/null 2> other.err; rc=$?
check "a journal of another input is refused (status 2, named)" test $rc -eq 2 -a -n "$(grep 'belongs to another job' other.err)"
"$hetex" verify --input - --journal j4 < sigs.txt > /dev/null 2> stdin.err; rc=$?
check "--journal with standard input is refused (status 2)" test $rc -eq 2 -a -n "$(grep 'standard input' stdin.err)"

echo "$fails failed"
exit $((fails > 0))
