// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Bytes as lower-case hexadecimal text and back: digests, keys and signatures in files and output.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace hetex {

/// Two lower-case hex digits per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);
/// Fills `out` from exactly 2 * out.size() hex digits (either case); false on a wrong length or a
/// character that is not a hex digit (`out` is then unspecified).
bool from_hex(std::string_view text, std::span<std::uint8_t> out) noexcept;

}  // namespace hetex
