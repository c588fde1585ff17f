#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Open MPI for a host without Debian packages or network (the GPU host): downloads the .deb files
# of Debian's Open MPI runtime (mpirun, orted, libmpi, every plugin, and every library they load)
# into gpu-bundle/mpi/debs (git-ignored), with gpu-bundle/mpi/unpack.sh to install them there.
#
#   scripts/gpu-mpi-debs.sh            # here (Debian 12 with openmpi-bin installed, network)
#   scripts/gpu-mpi-debs.sh --check    # ...and check that mpirun runs from a fresh prefix, with
#                                      # this machine's Open MPI hidden (needs root: unshare -m)
# then, on the GPU host (after copying gpu-bundle/ there):
#   source gpu-bundle/mpi/unpack.sh /tmp/ompi     # unpacks into the prefix, sets the environment
#   mpirun --allow-run-as-root -n 2 gpu-bundle/bin/hetex-cli devices
#
# The package list is worked out from this machine: the packages owning mpirun and orted, the
# plugins under Open MPI's and PMIx's library directories, the help texts and configuration
# (openmpi-common), and every shared library those load (ldd). The C and C++ runtimes (libc6,
# libstdc++6, libgcc-s1) stay behind: the GPU host has its own, newer ones.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[[ ${1:-} == --check ]] && check=1
out=gpu-bundle/mpi
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
lib=/usr/lib/$multiarch
command -v orterun > /dev/null || { echo "gpu-mpi-debs: Open MPI is not installed here (scripts/setup.sh installs it)" >&2; exit 2; }

binaries=("$(command -v orterun)" "$(command -v orted)" "$lib"/openmpi/lib/libmpi.so.40 "$lib"/openmpi/lib/openmpi3/*.so
          "$lib"/pmix2/lib/pmix/*.so)
# Every file that must be there, then the packages that own them (one dpkg query: it is slow).
# dpkg knows a merged-/usr library under /lib or /usr/lib, so both spellings are asked.
files=$( {
  printf '%s\n' "${binaries[@]}"
  for f in "${binaries[@]}"; do ldd "$f" 2>/dev/null | awk '/=> \// {print $3}'; done
} | while read -r f; do readlink -f "$f"; done | sort -u)
spellings=$(for f in $files; do echo "$f"; if [[ $f == /usr/lib/* ]]; then echo "${f#/usr}"; fi; done)
packages=$( {
  echo openmpi-bin openmpi-common libopenmpi3 libpmix2
  { dpkg -S $spellings 2>/dev/null || true; } | cut -d: -f1 | tr ', ' '\n\n'
} | tr ' ' '\n' | grep -v -E '^$|^(libc6|libstdc\+\+6|libgcc-s1)$' | sort -u)
echo "gpu-mpi-debs: $(wc -w <<< "$packages") packages:" $packages

rm -rf "$out"
mkdir -p "$out/debs"
# As root, apt would fetch as its sandbox user, who may not write here.
sandbox=(); [[ $(id -u) -eq 0 ]] && sandbox=(-o APT::Sandbox::User=root)
(cd "$out/debs" && apt-get "${sandbox[@]}" download $packages > /dev/null)
echo "gpu-mpi-debs: $(ls "$out/debs" | wc -l) .deb files, $(du -sh "$out/debs" | cut -f1)"

cat > "$out/unpack.sh" <<UNPACK
# source unpack.sh PREFIX: unpacks Debian's Open MPI runtime (the .deb files beside this script)
# into PREFIX and points this shell at it: PATH (mpirun), LD_LIBRARY_PATH (libmpi and what it
# loads), OPAL_PREFIX (Open MPI finds its plugins and help texts under PREFIX/usr, as it would
# under /usr), OPAL_SYSCONFDIR (its configuration), PMIX_PREFIX and PMIx's component path (its
# plugins).
# Unpacks with dpkg-deb where there is one, else with python3 (a .deb is an ar archive of tars).
# Idempotent: a prefix already unpacked is only pointed at.
_here=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)
_prefix=\$(mkdir -p "\${1:?usage: source unpack.sh PREFIX}" && cd "\$1" && pwd)
if [[ ! -x \$_prefix/usr/bin/orterun ]]; then
  for _deb in "\$_here"/debs/*.deb; do
    if command -v dpkg-deb > /dev/null; then
      dpkg-deb -x "\$_deb" "\$_prefix"
    else
      python3 - "\$_deb" "\$_prefix" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
pos = 8  # "!<arch>\\n", then 60-byte member headers
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
    fi
  done
  ln -sf orterun "\$_prefix/usr/bin/mpirun"
  ln -sf orterun "\$_prefix/usr/bin/mpiexec"
fi
export OPAL_PREFIX=\$_prefix/usr
export OPAL_SYSCONFDIR=\$_prefix/etc/openmpi
export PMIX_PREFIX=\$_prefix/usr/lib/$multiarch/pmix2
export PMIX_MCA_mca_base_component_path=\$PMIX_PREFIX/lib/pmix
export PATH=\$_prefix/usr/bin:\$PATH
export LD_LIBRARY_PATH=\$_prefix/usr/lib/$multiarch/openmpi/lib:\$_prefix/usr/lib/$multiarch/pmix2/lib:\$_prefix/usr/lib/$multiarch:\$_prefix/lib/$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
unset _here _prefix _deb
UNPACK
echo "gpu-mpi-debs: wrote $out/unpack.sh"

if ((check)); then
  # A fresh prefix, with this machine's Open MPI out of sight: its directories and libraries are
  # covered by empty ones in a private mount namespace, so only the prefix can serve mpirun.
  prefix=$(mktemp -d)
  trap 'rm -rf "$prefix"' EXIT
  hide=("$lib/openmpi" "$lib/pmix2" /etc/openmpi /usr/share/openmpi)
  for f in /usr/bin/orterun /usr/bin/orted "$lib"/libhwloc.so.* "$lib"/libevent*-2.1.so.* "$lib"/libfabric.so.* \
           "$lib"/libucp.so.* "$lib"/libucs.so.* "$lib"/libuct.so.* "$lib"/libpsm2.so.*; do
    [[ -e $f && ! -L $f ]] && hide+=("$f")
  done
  hetex=$(ls -t build/*/apps/hetex/hetex 2> /dev/null | head -n 1 || true)
  export hetex=${hetex:+$(realpath "$hetex")}
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 unshare -m bash -euc '
    empty=$(mktemp -d); : > "$empty/file"
    for h in "${@:3}"; do
      if [[ -d $h ]]; then mount --bind "$empty" "$h"; else mount --bind "$empty/file" "$h"; fi
    done
    source "$1/unpack.sh" "$2"
    echo "gpu-mpi-debs --check: mpirun is $(command -v mpirun)"
    ! ldd "$(command -v orterun)" | grep -q "not found"
    out=$(mpirun --oversubscribe -n 2 --mca btl self,vader,tcp --mca pml ob1 bash -c "echo rank \$OMPI_COMM_WORLD_RANK of \$OMPI_COMM_WORLD_SIZE" | sort)
    echo "$out"
    [[ $out == "rank 0 of 2"*"rank 1 of 2" ]]
    if [[ -x $hetex ]]; then  # and hetex itself, libmpi and all, from the prefix
      HETEX_DEVICES=cpu mpirun --oversubscribe -n 2 --mca btl self,vader,tcp --mca pml ob1 "$hetex" devices \
        --skip-bandwidth 2> /dev/null | grep "^rank [01] on"
    fi
  ' check "$out" "$prefix" "${hide[@]}"
  echo "gpu-mpi-debs --check: mpirun from a fresh prefix works with the system Open MPI hidden"
fi
