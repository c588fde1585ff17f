#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails, naming the files, when C++/CUDA sources differ from the project's style (.clang-format).
# scripts/check-format.sh --fix formats them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $format ]]; then
  echo "check-format: clang-format is not installed (apt-get install clang-format-14)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h')
if [[ ${1:-} == --fix ]]; then
  "$format" -i "${files[@]}"
  exit 0
fi
if ! "$format" --dry-run --Werror "${files[@]}" 2>/tmp/hetex-format.$$; then
  grep -o '^[^:]*\.[a-z]*:' /tmp/hetex-format.$$ | sort -u | sed 's/:$//; s/^/  not formatted: /' >&2
  rm -f /tmp/hetex-format.$$
  echo "check-format: run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/hetex-format.$$
