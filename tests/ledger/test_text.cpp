// SPDX-License-Identifier: MIT
// The text formats: transfers and genesis files, with an error that says what and where for
// every kind of bad input.
#include <gtest/gtest.h>

#include "hetex/ledger/reader.hpp"
#include "hetex/ledger/text.hpp"
#include "ledger_test_util.hpp"

namespace hetex::ledger {
namespace {

Transfer sample() {
  Transfer t;
  for (int i = 0; i < 32; ++i) t.from[i] = std::uint8_t(i), t.to[i] = std::uint8_t(255 - i);
  for (int i = 0; i < 64; ++i) t.signature[i] = std::uint8_t(3 * i);
  t.amount = 18446744073709551615ull;
  t.nonce = 42;
  return t;
}

TEST(Text, ATransferRoundTripsAndItsIdHashesTheLine) {
  const auto t = sample();
  const auto line = format_transfer(t);
  EXPECT_EQ(parse_transfer(line).value(), t);
  EXPECT_EQ(parse_transfer(line + "\r").value(), t);
  // Upper-case hex is accepted; the id is of the text as given.
  std::string upper = line;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(parse_transfer(upper).value(), t);
  EXPECT_NE(transaction_id(upper), transaction_id(line));
  EXPECT_EQ(transaction_id(line + "\r"), transaction_id(line));
  EXPECT_EQ(transaction_id(line),
            sha256_of(std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size())));
  // The signed message: from || to || amount LE || nonce LE.
  const auto m = signing_message(t);
  EXPECT_TRUE(std::equal(t.from.begin(), t.from.end(), m.begin()));
  EXPECT_TRUE(std::equal(t.to.begin(), t.to.end(), m.begin() + 32));
  EXPECT_EQ(m[64], 0xFF);
  EXPECT_EQ(m[72], 42);
  EXPECT_EQ(m[73], 0);
}

TEST(Text, EveryMalformedTransferSaysWhatIsWrong) {
  const auto good = format_transfer(sample());
  const std::string from = good.substr(0, 64), to = good.substr(65, 64), sig = good.substr(good.rfind(' ') + 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty line"},
      {from + " " + to + " 5 1", "expected 5 fields, found 4 (missing signature)"},
      {good + " 7", "unexpected field 6 at column"},
      {good + " memo=hello", "a line has 5 fields"},
      {from + "  " + to + " 5 1 " + sig, "field 2 (to) is empty"},
      {" " + good, "field 1 (from) is empty at column 1"},
      {from.substr(2) + " " + to + " 5 1 " + sig, "from at column 1 must be 64 hex digits, not 62"},
      {from + " " + to.substr(0, 63) + "g 5 1 " + sig, "to has a non-hex character at column 129"},
      {from + " " + to + " -5 1 " + sig, "amount at column 131 ('-5') is not an unsigned decimal number"},
      {from + " " + to + " 5 18446744073709551616 " + sig, "nonce at column 133 exceeds 2^64 - 1"},
      {from + " " + to + " 5 1.0 " + sig, "nonce at column 133 ('1.0') is not an unsigned decimal"},
      {from + " " + to + " 5 1 " + sig.substr(0, 126), "signature at column 135 must be 128 hex digits, not 126"},
  };
  for (const auto& [line, want] : cases) {
    auto r = parse_transfer(line);
    ASSERT_FALSE(r) << line;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
    EXPECT_NE(r.error().message().find(want), std::string::npos) << "'" << line << "': " << r.error().message();
  }
}

TEST(Text, TheGenesisIsCheckedForDuplicatesOverflowAndFormat) {
  PublicKey a{}, b{};
  a[0] = 1, b[0] = 2;
  const auto la = format_genesis_line(a, 10), lb = format_genesis_line(b, 20);
  const auto g = parse_genesis(lb + "\n" + la + "\n").value();
  EXPECT_EQ(g.accounts, (std::vector<std::pair<PublicKey, std::uint64_t>>{{a, 10}, {b, 20}}));
  EXPECT_EQ(parse_genesis(la + "\r\n" + lb).value().hash, g.hash) << "order and line endings do not matter";
  EXPECT_NE(parse_genesis(la + "\n").value().hash, g.hash);
  EXPECT_EQ(parse_genesis("").value().accounts.size(), 0u);

  auto dup = parse_genesis(la + "\n" + lb + "\n" + format_genesis_line(a, 99) + "\n");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message().find("genesis line 3: account " + to_hex(a) + " is already given on line 1"),
            std::string::npos)
      << dup.error().message();
  auto big = parse_genesis(format_genesis_line(a, ~0ull) + "\n" + format_genesis_line(b, 1));
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("genesis line 2: the balances add up to more than 2^64 - 1"), std::string::npos);
  auto bad = parse_genesis(la + "\n" + to_hex(b) + "\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("genesis line 2: expected 2 fields, found 1 (missing balance)"),
            std::string::npos)
      << bad.error().message();
  auto extra = parse_genesis(la + " 5\n");
  ASSERT_FALSE(extra);
  EXPECT_NE(extra.error().message().find("genesis line 1: unexpected field 3"), std::string::npos);
  test::TempDir dir;
  auto missing = read_genesis(dir / "nope.txt");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("nope.txt: cannot open"), std::string::npos);
}

TEST(Reader, ReadsBlocksOfLinesAndSkipsForResumption) {
  test::TempDir dir;
  {
    std::ofstream out(dir / "in.txt", std::ios::binary);
    out << "a\r\nbb\nccc\n\ndddd\neeeee";  // an empty line, and a last line without newline
  }
  auto r = BlockReader::open(dir / "in.txt", 2).value();
  auto b1 = r.next().value();
  ASSERT_TRUE(b1);
  EXPECT_EQ(b1->height, 1u);
  EXPECT_EQ(b1->first_line, 1u);
  EXPECT_EQ(b1->size(), 2u);
  EXPECT_EQ(b1->line(0), "a");
  EXPECT_EQ(b1->line(1), "bb");
  EXPECT_EQ(b1->lines()[1].size(), 2u);
  auto b2 = r.next().value();
  EXPECT_EQ(b2->line(0), "ccc");
  EXPECT_EQ(b2->line(1), "");
  auto b3 = r.next().value();
  EXPECT_EQ(b3->first_line, 5u);
  EXPECT_EQ(b3->line(1), "eeeee");
  EXPECT_FALSE(r.next().value());

  auto s = BlockReader::open(dir / "in.txt", 2).value();
  EXPECT_EQ(s.skip(2).value(), 2u);
  auto after = s.next().value();
  EXPECT_EQ(after->height, 3u);
  EXPECT_EQ(after->line(0), "dddd");
  EXPECT_EQ(s.skip(5).value(), 0u);

  {
    std::ofstream out(dir / "long.txt", std::ios::binary);
    out << "ok\n" << std::string(5000, 'x') << "\n";
  }
  auto l = BlockReader::open(dir / "long.txt", 10).value();
  auto err = l.next();
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message().find("line 2 is longer than 4096 bytes"), std::string::npos);
  EXPECT_FALSE(BlockReader::open(dir / "absent.txt", 10));
  EXPECT_FALSE(BlockReader::open(dir.path(), 10));
}

}  // namespace
}  // namespace hetex::ledger
