#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mpirun as the dist tests use it: N ranks on this host over loopback and shared memory.
#   mpirun.sh N [mpirun options --] program args...
# Open MPI refuses to run as root unless told (CI runs as root), and refuses more ranks than
# cores unless oversubscribed (CI has two cores). Binding is off (oversubscribed ranks bound to
# the same core would crawl); TCP is pinned to loopback; ob1 over vader/tcp avoids the UCX and
# libfabric probes, which only slow a container's start-up. HETEX_MPIEXEC names the launcher.
set -euo pipefail
n=$1
shift
extra=()
if [[ " $* " == *" -- "* ]]; then
  while [[ $1 != -- ]]; do extra+=("$1"); shift; done
  shift
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "${HETEX_MPIEXEC:-mpirun}" --oversubscribe --bind-to none \
  --mca pml ob1 --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
  "${extra[@]}" -n "$n" "$@"
