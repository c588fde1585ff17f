#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hetex::dist on one machine, one command: for 1, 2 and 4 ranks on disjoint core sets (rank 0
# gets the GPU, the others the CPU alone), the throughput of one batch across the ranks against
# the sum of each rank alone (same cores, same devices, no MPI), and against the sum of the same
# processes running side by side (each its own batch, no hetex::dist: what the shared memory bus
# leaves them); and one rank under mpirun against the same process without MPI.
#
#   bench/dist.sh [DIR]    DIR holds bench_dist (default: build/default/bench, else gpu-bundle/bin)
#
# Environment: DIST_RANKS ("1 2 4"), DIST_WORKLOADS ("verify sha256": Ed25519 verification of
# 32-byte messages, SHA-256 of 1 KiB messages), DIST_INPUT ("root everywhere": rank 0 sends each
# chunk's items, or every rank holds the input), DIST_SECONDS (3: the batch's length),
# DIST_POLICY (pinned: each rank on its GPU where it has one, else its CPU; or adaptive, split),
# DIST_REPEATS (3: timed passes per run, the best reported),
# DIST_MPIRUN_ARGS (extra mpirun options). Without mpirun on PATH, gpu-bundle/mpi/unpack.sh
# (scripts/gpu-mpi-debs.sh) provides one. Prints a table; writes dist-bench.json into $OUT (or
# the current directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-}
for d in "$dir" "$here/../build/default/bench" "$here/bin" "$here/../gpu-bundle/bin"; do
  [[ -n $d && -x $d/bench_dist ]] && { bin=$(cd "$d" && pwd)/bench_dist; break; }
done
[[ -n ${bin:-} ]] || { echo "dist.sh: no bench_dist found (build it, or pass its directory)" >&2; exit 2; }
if ! command -v mpirun > /dev/null; then
  for u in "$here/mpi/unpack.sh" "$here/../gpu-bundle/mpi/unpack.sh"; do
    # shellcheck disable=SC1090
    [[ -f $u ]] && { source "$u" "${TMPDIR:-/tmp}/hetex-ompi"; break; }
  done
fi
command -v mpirun > /dev/null || { echo "dist.sh: no mpirun (install openmpi-bin, or scripts/gpu-mpi-debs.sh)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks_list=${DIST_RANKS:-1 2 4}
workloads=${DIST_WORKLOADS:-verify sha256}
inputs=${DIST_INPUT:-root everywhere}
seconds=${DIST_SECONDS:-3}
policy=${DIST_POLICY:-pinned}
cores=$(nproc)
out=${OUT:-.}
json=$out/dist-bench.json
: > "$json"
# Ranks bind themselves (taskset); ob1 over shared memory and TCP works in containers too.
read -r -a mpi_args <<< "--bind-to none --oversubscribe --mca pml ob1 --mca btl self,vader,tcp ${DIST_MPIRUN_ARGS:-}"
command -v nvidia-smi > /dev/null && nvidia-smi -L | head -n 4 || echo "dist.sh: no GPU here: every rank is CPU only"

cpuset() {  # cpuset RANK RANKS: the cores of that rank, a contiguous share of the machine
  local per=$((cores / $2))
  echo "$(($1 * per))-$(($1 * per + per - 1))"
}
rank_env() {  # the devices of a rank: rank 0 the GPUs and its cores, the others their cores
  if [[ $1 -eq 0 ]]; then echo env; else echo env HETEX_DEVICES=cpu CUDA_VISIBLE_DEVICES=; fi
}
rate() { grep -o '"items_per_s":[0-9.e+]*' | cut -d: -f2; }

printf '%-15s %5s %-10s %14s %14s %8s %14s %8s\n' workload ranks input "items/s" "sum alone" ratio "side by side" ratio
for w in $workloads; do
  args=(--workload "$w" --seconds "$seconds" --policy "$policy" --repeats "${DIST_REPEATS:-3}")
  # One rank, the whole machine: no MPI against mpirun -n 1.
  alone_all=$("$bin" "${args[@]}" | tee -a "$json" | rate)
  one=$(mpirun "${mpi_args[@]}" -n 1 "$bin" "${args[@]}" | tee -a "$json" | rate)
  printf '%-15s %5s %-10s %14.0f %14.0f %8.3f   (mpirun -n 1 / no MPI)\n' "$w" 1 root "$one" "$alone_all" \
    "$(awk -v a="$one" -v b="$alone_all" 'BEGIN { print a / b }')"
  for n in $ranks_list; do
    ((n > 1)) || continue
    sum=0
    for ((r = 0; r < n; r++)); do
      # shellcheck disable=SC2046
      alone=$(taskset -c "$(cpuset $r $n)" $(rank_env $r) "$bin" "${args[@]}" | tee -a "$json" | rate)
      sum=$(awk -v s="$sum" -v a="$alone" 'BEGIN { print s + a }')
    done
    # The same ranks alone but at the same time (no hetex::dist): what they reach side by side on
    # one machine, where they share its memory bus.
    mpmd=()
    for ((r = 0; r < n; r++)); do
      ((r > 0)) && mpmd+=(:)
      # shellcheck disable=SC2207
      mpmd+=(-n 1 taskset -c "$(cpuset $r $n)" $(rank_env $r) "$bin" "${args[@]}" --independent 1)
    done
    together=$(mpirun "${mpi_args[@]}" "${mpmd[@]}" | tee -a "$json" | rate)
    for input in $inputs; do
      mpmd=()  # one app context per rank: its cores, its devices
      for ((r = 0; r < n; r++)); do
        ((r > 0)) && mpmd+=(:)
        # shellcheck disable=SC2207
        mpmd+=(-n 1 taskset -c "$(cpuset $r $n)" $(rank_env $r) "$bin" "${args[@]}" --input "$input")
      done
      got=$(mpirun "${mpi_args[@]}" "${mpmd[@]}" | tee -a "$json" | rate)
      printf '%-15s %5s %-10s %14.0f %14.0f %8.3f %14.0f %8.3f\n' "$w" "$n" "$input" "$got" "$sum" \
        "$(awk -v a="$got" -v b="$sum" 'BEGIN { print a / b }')" "$together" \
        "$(awk -v a="$got" -v b="$together" 'BEGIN { print a / b }')"
    done
  done
done
echo "dist.sh: every run's JSON in $json ($cores cores)"
