// SPDX-License-Identifier: MIT
#include "input.hpp"

#include <cstdio>
#include <cstring>

#include "interrupt.hpp"

namespace hetex::cli {

Result<InputFile> open_input(const std::string& name) {
  const InputOptions options{.special_files = true, .stop = &interrupt_flag()};
  if (name == "-") return InputFile::standard_input("standard input", options);
  return InputFile::open(name, options);
}

Result<std::vector<std::uint8_t>> read_input(const std::string& name) {
  auto in = HETEX_TRY(open_input(name));
  return read_all(in);
}

Result<bool> LineReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  const std::size_t got = HETEX_TRY(in_.read(std::span(buf_).subspan(end_)));
  end_ += got;
  eof_ = got == 0;
  return got > 0;
}

Result<bool> LineReader::next(std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  std::size_t scanned = 0;  // bytes after pos_ known to hold no '\n' (fill() keeps them after pos_)
  for (;;) {
    const std::size_t avail = end_ - pos_;
    const auto* start = buf_.data() + pos_;
    if (const void* nl = std::memchr(start + scanned, '\n', avail - scanned)) {
      const std::size_t len = std::size_t(static_cast<const std::uint8_t*>(nl) - start);
      too_long = too_long || len > max_line_;
      if (!too_long) line.assign(reinterpret_cast<const char*>(start), len);
      pos_ += len + 1;
      break;
    }
    scanned = avail;
    if (avail > max_line_) {  // overlong: drop it and skip on to the next '\n'
      too_long = true;
      pos_ = end_;
      scanned = 0;
    }
    if (!HETEX_TRY(fill())) {  // the end of the input
      if (end_ == pos_ && !too_long) return false;
      too_long = too_long || end_ - pos_ > max_line_;
      if (!too_long) line.assign(reinterpret_cast<const char*>(buf_.data() + pos_), end_ - pos_);
      pos_ = end_;
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void report_error(const char* command, const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "hetex %s: %s\n", command, message.c_str());
}

void report_error(const char* command, const Error& e) { report_error(command, e.message()); }

}  // namespace hetex::cli
