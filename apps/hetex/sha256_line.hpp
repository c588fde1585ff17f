// SPDX-License-Identifier: MIT
#pragma once
// One line of `hetex sha256` output, as sha256sum prints it, for the single-process command and
// its ranks under MPI alike.
#include <string>

#include "hetex/ops/sha256.hpp"

namespace hetex::cli {

// "<hex digest>  <name>\n". A name holding a backslash, a newline or a carriage return is escaped
// as sha256sum does (\\, \n, \r) and the line starts with a backslash, so `sha256sum -c` reads
// it back.
std::string sha256_line(const ops::Digest& digest, const std::string& name);

}  // namespace hetex::cli
