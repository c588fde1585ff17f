// SPDX-License-Identifier: MIT
// `hetex verify` input: its line splitting (LineReader, with a small line limit) and each line's
// parser. Every line the reader returns is the input's line; a parsed line re-encodes to it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "input.hpp"
#include "verify_line.hpp"

namespace {

constexpr std::size_t kMaxLine = 300;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_verify_line: %s\n", what);
    std::abort();
  }
}

std::string lower_hex(const std::uint8_t* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += {digits[p[i] >> 4], digits[p[i] & 15]};
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

void parse_line(std::string_view line) {
  hetex::cli::SignedLine parsed;
  if (hetex::cli::parse_verify_line(line, parsed)) return;
  const std::string again = lower_hex(parsed.key.data(), parsed.key.size()) + " " +
                            lower_hex(parsed.signature.data(), parsed.signature.size()) + " " +
                            lower_hex(parsed.message.data(), parsed.message.size());
  require(again == lower(line), "a parsed line does not re-encode to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The lines as the input holds them: '\n'-separated, a '\r' before it dropped, the last one
  // counted without a '\n' only when not empty.
  std::vector<std::string_view> want;
  for (std::size_t at = 0; at < size;) {
    const auto nl = text.find('\n', at);
    const auto end = nl == std::string_view::npos ? size : nl;
    want.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  const int fd = ::memfd_create("verify-input", 0);
  require(fd >= 0 && ::write(fd, data, size) == static_cast<ssize_t>(size), "memfd");
  auto in = hetex::InputFile::open("/proc/self/fd/" + std::to_string(fd));
  ::close(fd);
  require(in.has_value(), "cannot open the memfd");
  hetex::cli::LineReader reader(std::move(*in), kMaxLine);
  std::string line;
  bool too_long = false;
  std::size_t k = 0;
  for (;; ++k) {
    auto more = reader.next(line, too_long);
    require(more.has_value(), "read error");
    if (!*more) break;
    require(k < want.size(), "more lines than the input has");
    if (too_long) {
      require(line.empty() && want[k].size() > kMaxLine, "a line wrongly called too long");
      continue;
    }
    std::string_view w = want[k];
    require(w.size() <= kMaxLine, "a too-long line returned whole");
    if (!w.empty() && w.back() == '\r') w.remove_suffix(1);
    require(line == w, "a line differs from the input's");
    parse_line(line);
  }
  require(k == want.size(), "fewer lines than the input has");
  parse_line(text);  // the parser alone, on anything
  return 0;
}
