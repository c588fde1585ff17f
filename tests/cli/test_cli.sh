#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The hetex command line, end to end: output formats, per-input errors, exit statuses.
#   test_cli.sh path/to/hetex
set -u
hetex=$(realpath "$1")
dir=$(mktemp -d)
metrics_pid=
trap '[[ -n $metrics_pid ]] && kill "$metrics_pid" 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
fails=0
wait_for_line() {  # wait_for_line FD PATTERN: reads FD up to a line matching PATTERN, prints it
  local line
  while IFS= read -r -t 60 line <&"$1"; do
    if [[ $line =~ $2 ]]; then printf '%s\n' "$line"; return 0; fi
  done
  return 1
}
check() {  # check "what" condition...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
export HETEX_DEVICES=cpu  # the same verdicts on any machine; GPU paths have their own tests

"$hetex" --version | grep -q '^hetex [0-9]' ; check "--version prints the version" test $? -eq 0

# sha256: sha256sum-compatible lines, a missing file named on stderr, the others still hashed.
printf 'hello\n' > a.txt
head -c 100000 /dev/urandom > b.bin
: > empty
"$hetex" sha256 a.txt missing.txt b.bin empty > sums 2> err; rc=$?
check "sha256: exit 1 when a file is missing" test $rc -eq 1
check "sha256: the missing file is named" grep -q 'missing.txt' err
check "sha256: three digests, in argument order" test "$(cut -d' ' -f3 sums | tr '\n' ,)" = "a.txt,b.bin,empty,"
check "sha256: sha256sum -c accepts the output" sha256sum --quiet -c sums
odd=$'back\\slash and\nnew line'
printf 'x' > "$odd"
"$hetex" sha256 "$odd" > odd.sum
check "sha256: names with a backslash or a newline are escaped as sha256sum escapes them" \
  test "$(cat odd.sum)" = "$(sha256sum "$odd")"
check "sha256: sha256sum -c reads the escaped line back" sha256sum --quiet -c odd.sum
printf 'abc' | "$hetex" sha256 - > stdin.sum
check "sha256: - reads stdin" grep -q '^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -$' stdin.sum
# Every kind of bad path gets its own error; the rest are still hashed (as sha256sum does).
mkdir adir
"$hetex" sha256 a.txt adir /proc/self/mem <(printf abc) empty > sums2 2> err; rc=$?
check "sha256: exit 1 for a directory and an unreadable file" test $rc -eq 1
check "sha256: a directory is named as one" grep -q '^hetex sha256: adir: is a directory$' err
check "sha256: a read error is named with its reason" grep -q '^hetex sha256: /proc/self/mem: read error: ' err
check "sha256: no abort, no exception text" test -z "$(grep -i -E 'terminate|exception|ios_base' err)"
check "sha256: a pipe (process substitution) is read like a file" \
  grep -q '^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /dev/fd/' sums2
check "sha256: the good files are still hashed, in order" test "$(cut -d' ' -f3 sums2 | sed 's|/dev/fd/.*|fd|' | tr '\n' ,)" = "a.txt,fd,empty,"
if [[ $(id -u) -ne 0 ]]; then
  printf 'x' > secret && chmod 000 secret
  "$hetex" sha256 secret a.txt > /dev/null 2> err; rc=$?
  check "sha256: an unreadable file is exit 1, named" test $rc -eq 1 -a -n "$(grep 'secret: cannot open: Permission denied' err)"
fi
"$hetex" sha256 --device quantum a.txt > /dev/null 2> err; rc=$?
check "sha256: a bad --device is exit 2 with a reason" test $rc -eq 2 -a -s err

# verify: RFC 8032 test 1 (empty message), then corrupted and malformed lines.
pk=d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
sig=e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
{
  echo "$pk $sig "
  echo "$pk $sig 00"
  echo "not a line"
  echo "$pk ${sig:0:126} "
  echo "$pk $sig zz"
  echo "$pk $sig "
} > in.txt
"$hetex" verify --input in.txt > out.txt 2> err; rc=$?
check "verify: exit 1 when a line is malformed" test $rc -eq 1
check "verify: one output line per input line" test "$(wc -l < out.txt)" -eq 6
check "verify: verdicts in order" test "$(sed -n '1p;2p;6p' out.txt | tr '\n' ,)" = "valid,invalid,valid,"
check "verify: malformed lines say why, with the line number" \
  test "$(grep -c '^error: line [345]: ' out.txt)" -eq 3
check "verify: the signature length is named" grep -q 'signature must be 128 hex digits' out.txt
check "verify: a summary on stderr" grep -q '6 lines: 2 valid, 1 invalid, 3 malformed' err
"$hetex" verify --input nowhere.txt > /dev/null 2> err; rc=$?
check "verify: an unreadable input is exit 2, named" test $rc -eq 2 -a -n "$(grep nowhere.txt err)"
"$hetex" verify --input adir > /dev/null 2> err; rc=$?
check "verify: a directory as input is exit 2, named" test $rc -eq 2 -a -n "$(grep 'adir: is a directory' err)"

"$hetex" devices --json > dev.json
check "devices --json names the CPU and its cores" grep -q '"logical_cores": [1-9]' dev.json
check "devices --json lists the CPU's SIMD features" grep -q '"simd": \[' dev.json
"$hetex" devices > dev.txt
check "devices shows the CPU model, cores and features" \
  test -n "$(grep '^cpu ' dev.txt)" -a -n "$(grep '^  cores ' dev.txt)" -a -n "$(grep '^  features ' dev.txt)"
# Vulkan devices, where the backend is built and one exists (lavapipe counts): each listed with
# its vendor and limits, and in use once HETEX_DEVICES names it.
if grep -q '"id": "vulkan:0"' dev.json; then
  check "devices lists vulkan:0 with its vendor and limits" \
    test -n "$(grep '^vulkan:0 ' dev.txt)" -a -n "$(grep '^  vendor ' dev.txt)" -a -n "$(grep '^  limits ' dev.txt)"
  HETEX_DEVICES=cpu,vulkan:0 "$hetex" devices --json --skip-bandwidth > devvk.json
  check "devices: HETEX_DEVICES=cpu,vulkan:0 puts vulkan:0 in use" grep -q '"in_use": true' devvk.json
fi

# --metrics-port: while a command runs (its stdin, a fifo, held open) /metrics answers on
# 127.0.0.1; the port is printed on stderr (0 picks a free one) once the scheduler is up, so the
# first scrape already has every family. Reading that line (stderr is a fifo) is the hook.
http_get() {  # http_get PORT PATH: the whole response, headers included
  if (exec 4<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    exec 4<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&4
    timeout 10 cat <&4
    exec 4>&-
  else
    python3 -c 'import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=10); print("HTTP/1.1", r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print("HTTP/1.1", e.code)' "$1" "$2" 2>/dev/null
  fi
}
mkfifo metrics.in metrics.err
"$hetex" sha256 --metrics-port 0 - < metrics.in > metrics.out 2> metrics.err &
metrics_pid=$!
exec 3> metrics.in
exec 8< metrics.err
announced=$(wait_for_line 8 'metrics at')
port=$(echo "$announced" | grep -o 'http://127.0.0.1:[0-9]*/metrics' | sed 's/.*:\([0-9]*\)\/metrics/\1/')
check "--metrics-port 0 prints the address it serves" test -n "$port"
if [[ -n $port ]]; then
  http_get "$port" /metrics > scrape.txt
  check "/metrics answers while the command runs" grep -q '^HTTP/1.1 200' scrape.txt
  check "/metrics is Prometheus text with the scheduler's families" \
    test -n "$(grep '^# TYPE hetex_queue_depth gauge' scrape.txt)" -a -n "$(grep '^hetex_device_up{device="cpu"} 1' scrape.txt)"
  http_get "$port" /nothing-here > scrape404.txt
  check "other paths are 404" grep -q '^HTTP/1.1 404' scrape404.txt
  "$hetex" sha256 --metrics-port "$port" a.txt > /dev/null 2> err; rc=$?
  check "a port in use is exit 2, naming the port" test $rc -eq 2 -a -n "$(grep "$port" err)"
fi
(trap '' PIPE; printf 'abc' >&3) 2>/dev/null  # no SIGPIPE for this script if hetex has gone
exec 3>&-
cat <&8 > /dev/null
exec 8<&-
wait "$metrics_pid"; rc=$?
metrics_pid=
check "with --metrics-port the command still works" \
  test $rc -eq 0 -a "$(cut -c1-16 metrics.out)" = "ba7816bf8f01cfea"
"$hetex" verify --metrics-port 65536 --input in.txt > /dev/null 2>&1; rc=$?
check "an out-of-range --metrics-port is exit 2" test $rc -eq 2
for c in devices sha256 verify bench image; do
  "$hetex" $c --help > help.txt; rc=$?
  check "$c --help shows examples" test $rc -eq 0 -a -n "$(grep -i '^Examples\?:' help.txt)"
done
"$hetex" --help > help.txt
check "--help documents the exit statuses" grep -q '^Exit status' help.txt
"$hetex" frobnicate > /dev/null 2>&1; rc=$?
check "an unknown command is exit 2" test $rc -eq 2

# image: PGM/PPM written with printf, so the expected pixels are known.
row=$(printf '\\000\\000\\000\\000\\310\\310\\310\\310')  # 0 0 0 0 200 200 200 200: a vertical step
{ printf 'P5\n8 6\n255\n'; for i in 1 2 3 4 5 6; do printf "$row"; done; } > step.pgm
"$hetex" image step.pgm same.pgm --gray; rc=$?
check "image: --gray of a gray image is the image" test $rc -eq 0 -a "$(cmp -s step.pgm same.pgm && echo same)" = same
"$hetex" image step.pgm edges.pgm --edges 0.1; rc=$?
check "image: --edges THRESHOLD exits 0" test $rc -eq 0
check "image: the edge map marks the two columns beside the step" \
  test "$(tail -c 48 edges.pgm | od -v -An -tu1 -w8 | sort -u | tr -s ' ')" = " 0 0 0 255 255 0 0 0"
{ printf 'P6\n5 4\n255\n'; head -c 60 /dev/urandom; } > rgb.ppm
"$hetex" image rgb.ppm blurred.ppm --blur 1.5; rc=$?
check "image: a colour blur keeps RGB (header + 5*4*3 bytes)" test $rc -eq 0 -a "$(wc -c < blurred.ppm)" -eq 71
"$hetex" image rgb.ppm edges.png --blur 1 --edges; rc=$?
check "image: PPM in, PNG out" test $rc -eq 0 -a "$(head -c 4 edges.png | tail -c 3)" = PNG
"$hetex" image missing.ppm x.png --gray 2> err; rc=$?
check "image: a missing input is exit 1, named" test $rc -eq 1 -a -n "$(grep missing.ppm err)"
"$hetex" image rgb.ppm x.gif --gray 2> err; rc=$?
check "image: an unknown output format is exit 2" test $rc -eq 2 -a -s err
"$hetex" image rgb.ppm x.png 2> err; rc=$?
check "image: no operation is exit 2" test $rc -eq 2
"$hetex" image rgb.ppm x.png --blur 1 --device quantum 2> err; rc=$?
check "image: a bad --device is exit 2" test $rc -eq 2
mkdir -p frames
for i in 1 2 3; do cp rgb.ppm "frames/f$i.ppm"; done
cp step.pgm frames/f0.pgm
printf 'P6\n5 4\n255\nshort' > frames/f4.ppm   # truncated
echo 'not an image' > frames/f5.png
"$hetex" image --batch frames out --blur 1 --edges 0.2 2> err; rc=$?
check "image --batch: exit 1 when some files are corrupt" test $rc -eq 1
check "image --batch: each corrupt file is named" test -n "$(grep f4.ppm err)" -a -n "$(grep f5.png err)"
check "image --batch: the good files are all written" test "$(ls out | tr '\n' ,)" = "f0.pgm,f1.ppm,f2.ppm,f3.ppm,"
check "image --batch: a summary line" grep -q '6 images on cpu.*4 written, 2 failed' err
"$hetex" image --batch nowhere out2 --gray 2> err; rc=$?
check "image --batch: an unlistable directory is exit 2" test $rc -eq 2

# A re-run redoes only what is missing: complete outputs newer than their inputs are skipped.
rm frames/f4.ppm frames/f5.png
rm out/f1.ppm
head -c 30 out/f2.ppm > short && cat short > out/f2.ppm   # a truncated output (not one hetex wrote)
touch -d '2000-01-01' out/f3.ppm                           # older than its input
"$hetex" image --batch frames out --blur 1 --edges 0.2 2> err; rc=$?
check "image --batch re-run: exit 0" test $rc -eq 0
check "image --batch re-run: the missing, truncated and stale outputs are redone, the rest skipped" \
  grep -q '4 images on cpu.*3 written, 0 failed, 1 already done' err
check "image --batch re-run: the redone outputs are whole (f1-f3 have the same input)" \
  test -n "$(cmp out/f1.ppm out/f2.ppm && cmp out/f1.ppm out/f3.ppm && echo same)"
"$hetex" image --batch frames out --blur 1 --edges 0.2 2> err; rc=$?
check "image --batch: a finished batch re-runs as nothing to do" test $rc -eq 0 -a -n "$(grep '0 written, 0 failed, 4 already done' err)"
"$hetex" image --batch frames out --blur 1 --edges 0.2 --force 2> err; rc=$?
check "image --batch --force redoes every image" test $rc -eq 0 -a -n "$(grep '4 written, 0 failed$' err)"
check "image --batch: no temporary files are left" \
  test -z "$(ls -A out | grep -v -E '^(f[0-3]\.p[gp]m|\.hetex-image-done)$')"
"$hetex" image --batch frames out --blur 2 --edges 0.2 2> err; rc=$?
check "image --batch with other options redoes every image" test $rc -eq 0 -a -n "$(grep '4 written, 0 failed$' err)"
"$hetex" image --batch frames out --blur 2 --edges 0.2 2> err; rc=$?
check "image --batch: then the new options' outputs are done" test -n "$(grep '0 written, 0 failed, 4 already done' err)"
cp -r frames same && before=$(cat same/* | sha256sum)
"$hetex" image --batch same same --gray 2> err; rc=$?
check "image --batch IN IN: exit 2, naming the problem" test $rc -eq 2 -a -n "$(grep 'is the input' err)"
check "image --batch IN IN: the inputs are untouched" test "$(cat same/* | sha256sum)" = "$before"
"$hetex" image same/f0.pgm ./same/../same/f0.pgm --gray 2> err; rc=$?
check "image IN IN (another spelling): exit 2" test $rc -eq 2

# Ctrl-C. Each command is stopped while it provably still has work: its stderr is a fifo whose
# first line shows it is running (the handlers are installed before any command starts).
mkfifo sha.in sha.err
"$hetex" sha256 --metrics-port 0 a.txt - b.bin < sha.in > sha.out 2> sha.err &
pid=$!
exec 3> sha.in
exec 7< sha.err
wait_for_line 7 'metrics at' > /dev/null  # the scheduler is up; hetex reads a.txt, then waits on stdin
kill -INT "$pid"
cat <&7 > sha.rest
wait "$pid"; rc=$?
exec 3>&- 7<&-
check "sha256: Ctrl-C exits 130" test $rc -eq 130
check "sha256: Ctrl-C says how far it got" grep -q '^hetex sha256: interrupted; 0 of 3 digests printed' sha.rest
check "sha256: Ctrl-C prints no digest of a file it did not finish" test ! -s sha.out

mkfifo ver.in ver.err
"$hetex" verify --metrics-port 0 --input - < ver.in > ver.out 2> ver.err &
pid=$!
exec 3> ver.in
exec 7< ver.err
wait_for_line 7 'metrics at' > /dev/null
kill -INT "$pid"
cat <&7 > ver.rest
wait "$pid"; rc=$?
exec 3>&- 7<&-
check "verify: Ctrl-C while waiting for input exits 130" test $rc -eq 130 -a -n "$(grep 'interrupted' ver.rest)"

# image --batch: a thousand unreadable files first, so that their error lines fill the stderr
# pipe (64 KiB) and the batch cannot finish before the signal arrives.
mkdir many
for i in $(seq -w 0 999); do echo x > "many/c$i.png"; done
for i in 1 2 3; do cp rgb.ppm "many/g$i.ppm"; done
mkfifo img.err
"$hetex" image --batch many many.out --gray 2> img.err &
pid=$!
exec 7< img.err
wait_for_line 7 'c000.png' > /dev/null
kill -INT "$pid"
cat <&7 > img.rest
wait "$pid"; rc=$?
exec 7<&-
check "image --batch: Ctrl-C exits 130" test $rc -eq 130
check "image --batch: Ctrl-C says what is left and how to finish it" \
  grep -q 'interrupted; [0-9]* image(s) not started: run the same command again to do them' img.rest
check "image --batch: nothing after the interruption was started" test -z "$(ls -A many.out)"
rm many/c*.png
"$hetex" image --batch many many.out --gray 2> err; rc=$?
check "image --batch: the re-run after Ctrl-C finishes the rest" \
  test $rc -eq 0 -a "$(ls many.out | tr '\n' ,)" = "g1.ppm,g2.ppm,g3.ppm,"

# bench: a smoke run of every workload on the CPU, tiny sizes; the JSON and HTML reports.
"$hetex" bench --device cpu --max-size 2048 --json bench.json --html bench.html > table 2> err; rc=$?
check "bench: exit 0" test $rc -eq 0
check "bench: the table names every workload" test "$(grep -c -E 'Vector add|SHA-256|Ed25519|map → filter|Sobel' table)" -ge 5
check "bench: the JSON has five workloads, each measured on 1 thread and on all cores" python3 - bench.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ids = [w["id"] for w in r["workloads"]]
assert ids == ["vector_add", "sha256", "ed25519", "pipeline", "image"], ids
for w in r["workloads"]:
    got = {s["id"]: s for s in w["series"]}
    for col in ("cpu_1", "cpu_all"):
        assert got[col]["points"], (w["id"], col)
        assert all(p["per_second"] > 0 and p["size"] <= 2048 or p["size"] == w["series"][0]["points"][0]["size"] for p in got[col]["points"])
assert any("GPU" in s for s in r["skipped"]), r["skipped"]
assert r["machine"]["cpu_cores"] >= 1
PY
check "bench: the HTML report has a chart per workload" test "$(grep -o '<svg' bench.html | wc -l)" -ge 5
"$hetex" bench --suite fast > /dev/null 2> err; rc=$?
check "bench: an unknown suite is exit 2" test $rc -eq 2
"$hetex" bench --device cpu --max-size 1 --only sha256 --json /nonexistent/dir/b.json > /dev/null 2> err; rc=$?
check "bench: an unwritable --json is exit 1, named" test $rc -eq 1 -a -n "$(grep nonexistent err)"

echo "$fails failed"
exit $((fails > 0))
