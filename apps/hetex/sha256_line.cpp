// SPDX-License-Identifier: MIT
#include "sha256_line.hpp"

namespace hetex::cli {

std::string sha256_line(const ops::Digest& digest, const std::string& name) {
  static const char* digits = "0123456789abcdef";
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
  for (std::uint8_t b : digest) {
    line += digits[b >> 4];
    line += digits[b & 15];
  }
  line += "  ";
  line += escape ? escaped : name;
  line += '\n';
  return line;
}

}  // namespace hetex::cli
