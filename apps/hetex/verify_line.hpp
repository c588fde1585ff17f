// SPDX-License-Identifier: MIT
#pragma once
// One line of `hetex verify` input: "<public key hex (64)> <signature hex (128)> <message hex>",
// fields separated by single spaces (the message may be empty).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hetex/ops/ed25519.hpp"

namespace hetex::cli {

struct SignedLine {
  ops::PublicKey key{};
  ops::Signature signature{};
  std::vector<std::uint8_t> message;
};

// Fills `out`; the reason the line is malformed otherwise ("signature must be 128 hex digits...").
std::optional<std::string> parse_verify_line(std::string_view line, SignedLine& out);

}  // namespace hetex::cli
