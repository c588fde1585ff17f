// SPDX-License-Identifier: MIT
#include "verify_line.hpp"

#include <algorithm>

namespace hetex::cli {
namespace {

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes hex into out (want bytes exactly, or any even length when want is 0); the reason it
// cannot, otherwise.
std::optional<std::string> unhex(std::string_view field, const char* what, std::size_t want,
                                 std::vector<std::uint8_t>& out) {
  if (want && field.size() != 2 * want)
    return std::string(what) + " must be " + std::to_string(2 * want) + " hex digits, not " +
           std::to_string(field.size());
  if (field.size() % 2) return std::string(what) + " has an odd number of hex digits";
  out.clear();
  out.reserve(field.size() / 2);
  for (std::size_t i = 0; i < field.size(); i += 2) {
    const int hi = nibble(field[i]), lo = nibble(field[i + 1]);
    if (hi < 0 || lo < 0)
      return std::string(what) + " has a non-hex character at column " + std::to_string(i + (hi < 0 ? 1 : 2));
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_verify_line(std::string_view line, SignedLine& out) {
  const auto a = line.find(' ');
  const auto b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos) return "expected three fields separated by single spaces";
  std::vector<std::uint8_t> bytes;
  if (auto err = unhex(line.substr(0, a), "public key", out.key.size(), bytes)) return err;
  std::copy(bytes.begin(), bytes.end(), out.key.begin());
  if (auto err = unhex(line.substr(a + 1, b - a - 1), "signature", out.signature.size(), bytes)) return err;
  std::copy(bytes.begin(), bytes.end(), out.signature.begin());
  return unhex(line.substr(b + 1), "message", 0, out.message);
}

}  // namespace hetex::cli
