// SPDX-License-Identifier: MIT
#include "sha256_line.hpp"

#include "hetex/core/hex.hpp"

namespace hetex::cli {

std::string sha256_line(const ops::Digest& digest, const std::string& name) {
  std::string escaped;
  bool escape = false;
  for (char c : name) {
    if (c == '\\') {
      escaped += "\\\\";
      escape = true;
    } else if (c == '\n') {
      escaped += "\\n";
      escape = true;
    } else if (c == '\r') {
      escaped += "\\r";
      escape = true;
    } else {
      escaped += c;
    }
  }
  std::string line = escape ? "\\" : "";
  line += to_hex(digest);
  line += "  ";
  line += escape ? escaped : name;
  line += '\n';
  return line;
}

}  // namespace hetex::cli
