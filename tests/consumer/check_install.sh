#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs a built tree to a temporary prefix and uses it as a user would: the CMake package
# (find_package(hetex)) and pkg-config (hetex.pc) each build and run tests/consumer, and the
# installed `hetex` command runs.
#   tests/consumer/check_install.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
"$prefix/bin/hetex" --version
test -f "$prefix/include/hetex/hetex.hpp"

echo "--- consumer through find_package(hetex)"
cmake -S "$src" -B "$tmp/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
"$tmp/cmake/consumer"

echo "--- consumer through pkg-config"
PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name hetex.pc)")
export PKG_CONFIG_PATH
# shellcheck disable=SC2046  # pkg-config output is a list of flags
# (the rpath matters for a shared libhetex outside the loader's search path)
"${CXX:-c++}" -O1 -o "$tmp/consumer-pc" "$src/main.cpp" $(pkg-config --cflags --libs hetex) \
  -Wl,-rpath,"$(pkg-config --variable=libdir hetex)"
"$tmp/consumer-pc"
