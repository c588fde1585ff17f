// SPDX-License-Identifier: MIT
#include "hetex/core/hex.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace {

TEST(Hex, RoundTripsEveryByteValue) {
  std::array<std::uint8_t, 256> bytes{};
  for (int i = 0; i < 256; ++i) bytes[i] = static_cast<std::uint8_t>(i);
  const std::string text = hetex::to_hex(bytes);
  ASSERT_EQ(text.size(), 512u);
  EXPECT_EQ(text.substr(0, 8), "00010203");
  EXPECT_EQ(text.substr(504), "fcfdfeff");
  std::array<std::uint8_t, 256> back{};
  ASSERT_TRUE(hetex::from_hex(text, back));
  EXPECT_EQ(back, bytes);
}

TEST(Hex, ReadsEitherCaseAndRefusesWhatIsNotHex) {
  std::array<std::uint8_t, 2> out{};
  ASSERT_TRUE(hetex::from_hex("aBcD", out));
  EXPECT_EQ(out, (std::array<std::uint8_t, 2>{0xab, 0xcd}));
  EXPECT_FALSE(hetex::from_hex("abc", out));     // odd length
  EXPECT_FALSE(hetex::from_hex("abcdef", out));  // too long for out
  EXPECT_FALSE(hetex::from_hex("abcg", out));    // not a hex digit
  EXPECT_FALSE(hetex::from_hex("ab d", out));
  EXPECT_EQ(hetex::to_hex({}), "");
}

}  // namespace
