#pragma once
// One line of `hetex verify` input: "<public key hex (64)> <signature hex (128)> <message hex>".
// Shared by the single-process command and its ranks under MPI, so both say the same of a line.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hetex/ops/ed25519.hpp"

namespace hetex::cli {

// Parses `line` (without its newline; a trailing '\r' is ignored). On success fills the key,
// signature and message and returns nullopt; otherwise returns why the line is malformed.
std::optional<std::string> parse_verify_line(std::string_view line, ops::PublicKey& key, ops::Signature& sig,
                                             std::vector<std::uint8_t>& msg);

}  // namespace hetex::cli
