// SPDX-License-Identifier: MIT
#include "hetex/ledger/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>

#include "hetex/core/file.hpp"

namespace hetex::ledger {
namespace {

constexpr std::array<const char*, 5> kTransferFields = {"from", "to", "amount", "nonce", "signature"};
constexpr std::array<const char*, 2> kGenesisFields = {"public key", "balance"};

struct Field {
  std::string_view text;
  std::size_t column;  // 1-based
};

// Splits on single spaces into at most `want` + 1 fields (one more says "too many").
template <std::size_t N>
Result<std::array<Field, N>> split(std::string_view line, const std::array<const char*, N>& names) {
  if (line.empty()) return Error(Errc::invalid_argument, "empty line");
  std::array<Field, N> out{};
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    const auto space = line.find(' ', start);
    const auto end = space == std::string_view::npos ? line.size() : space;
    if (i == N)
      return Error(Errc::invalid_argument, "unexpected field " + std::to_string(N + 1) + " at column " +
                                               std::to_string(start + 1) + " ('" +
                                               std::string(line.substr(start, std::min<std::size_t>(end - start, 20))) +
                                               "'): a line has " + std::to_string(N) + " fields");
    if (end == start)
      return Error(Errc::invalid_argument, std::string("field ") + std::to_string(i + 1) + " (" + names[i] +
                                               ") is empty at column " + std::to_string(start + 1) +
                                               " (fields are separated by single spaces)");
    out[i] = {line.substr(start, end - start), start + 1};
    if (space == std::string_view::npos) {
      if (i + 1 < N)
        return Error(Errc::invalid_argument, "expected " + std::to_string(N) + " fields, found " +
                                                 std::to_string(i + 1) + " (missing " + names[i + 1] + ")");
      return out;
    }
    start = space + 1;
  }
}

Status hex_field(const Field& f, const char* name, std::span<std::uint8_t> out) {
  if (f.text.size() != 2 * out.size())
    return Error(Errc::invalid_argument, std::string(name) + " at column " + std::to_string(f.column) + " must be " +
                                             std::to_string(2 * out.size()) + " hex digits, not " +
                                             std::to_string(f.text.size()));
  if (!from_hex(f.text, out)) {
    const auto bad = std::find_if(f.text.begin(), f.text.end(),
                                  [](char c) { return !std::isxdigit(static_cast<unsigned char>(c)); });
    return Error(Errc::invalid_argument, std::string(name) + " has a non-hex character at column " +
                                             std::to_string(f.column + static_cast<std::size_t>(bad - f.text.begin())));
  }
  return {};
}

Result<std::uint64_t> number_field(const Field& f, const char* name) {
  std::uint64_t v = 0;
  const auto* first = f.text.data();
  const auto* last = first + f.text.size();
  if (!std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; }))
    return Error(Errc::invalid_argument, std::string(name) + " at column " + std::to_string(f.column) + " ('" +
                                             std::string(f.text.substr(0, 24)) +
                                             "') is not an unsigned decimal number");
  const auto [p, ec] = std::from_chars(first, last, v);
  if (ec == std::errc::result_out_of_range || p != last)
    return Error(Errc::invalid_argument,
                 std::string(name) + " at column " + std::to_string(f.column) + " exceeds 2^64 - 1");
  return v;
}

void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The whole file as text; a directory, an unreadable file or one that changes while read is an
// Errc::io error naming it (hetex::read_file's rules).
Result<std::string> read_text(const std::filesystem::path& file) {
  auto bytes = HETEX_TRY(hetex::read_file(file));
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

Result<Transfer> parse_transfer(std::string_view line) {
  line = trim_cr(line);
  const auto f = HETEX_TRY(split(line, kTransferFields));
  Transfer t;
  HETEX_TRY_VOID(hex_field(f[0], "from", t.from));
  HETEX_TRY_VOID(hex_field(f[1], "to", t.to));
  t.amount = HETEX_TRY(number_field(f[2], "amount"));
  t.nonce = HETEX_TRY(number_field(f[3], "nonce"));
  HETEX_TRY_VOID(hex_field(f[4], "signature", t.signature));
  return t;
}

std::string format_transfer(const Transfer& t) {
  std::string s;
  s.reserve(64 + 64 + 128 + 48);
  s += to_hex(t.from);
  s += ' ';
  s += to_hex(t.to);
  s += ' ';
  s += std::to_string(t.amount);
  s += ' ';
  s += std::to_string(t.nonce);
  s += ' ';
  s += to_hex(t.signature);
  return s;
}

Hash transaction_id(std::string_view line) {
  line = trim_cr(line);
  return sha256_of(std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()));
}

Genesis make_genesis(std::vector<std::pair<PublicKey, std::uint64_t>> accounts) {
  Genesis g;
  g.accounts = std::move(accounts);
  std::sort(g.accounts.begin(), g.accounts.end());
  std::vector<std::uint8_t> bytes(g.accounts.size() * 40);
  for (std::size_t i = 0; i < g.accounts.size(); ++i) {
    std::memcpy(bytes.data() + 40 * i, g.accounts[i].first.data(), 32);
    put_u64(bytes.data() + 40 * i + 32, g.accounts[i].second);
  }
  g.hash = sha256_of(bytes);
  return g;
}

Result<Genesis> parse_genesis(std::string_view text) {
  struct Line {
    PublicKey key;
    std::uint64_t balance;
    std::size_t line;
  };
  std::vector<Line> lines;
  std::uint64_t total = 0;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = trim_cr(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    auto parsed = [&]() -> Result<Line> {
      const auto f = HETEX_TRY(split(line, kGenesisFields));
      Line l{{}, 0, line_no};
      HETEX_TRY_VOID(hex_field(f[0], "public key", l.key));
      l.balance = HETEX_TRY(number_field(f[1], "balance"));
      return l;
    }();
    if (!parsed) return parsed.error().with_context("genesis line " + std::to_string(line_no));
    if (__builtin_add_overflow(total, parsed->balance, &total))
      return Error(Errc::invalid_argument, "genesis line " + std::to_string(line_no) +
                                               ": the balances add up to more than 2^64 - 1, so a transfer "
                                               "could overflow an account");
    lines.push_back(*parsed);
  }
  std::sort(lines.begin(), lines.end(),
            [](const Line& a, const Line& b) { return a.key != b.key ? a.key < b.key : a.line < b.line; });
  std::vector<std::pair<PublicKey, std::uint64_t>> accounts;
  accounts.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0 && lines[i].key == lines[i - 1].key)
      return Error(Errc::invalid_argument, "genesis line " + std::to_string(lines[i].line) + ": account " +
                                               to_hex(lines[i].key) + " is already given on line " +
                                               std::to_string(lines[i - 1].line));
    accounts.emplace_back(lines[i].key, lines[i].balance);
  }
  return make_genesis(std::move(accounts));
}

Result<Genesis> read_genesis(const std::filesystem::path& file) {
  const auto text = HETEX_TRY(read_text(file));
  auto g = parse_genesis(text);
  if (!g) return g.error().with_context(file.string());
  return g;
}

std::string format_genesis_line(const PublicKey& key, std::uint64_t balance) {
  return to_hex(key) + ' ' + std::to_string(balance);
}

}  // namespace hetex::ledger
