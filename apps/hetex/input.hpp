// SPDX-License-Identifier: MIT
#pragma once
// The inputs a command is handed, read the one way every command shares: "-" is standard
// input, anything else a path opened with hetex::InputFile (a directory, a missing, unreadable
// or changing file is an error naming it), and Ctrl-C ends a blocked read. A command reports a
// bad input with report_error and carries on with the rest (exit status 1).
#include <cstdint>
#include <string>
#include <vector>

#include "hetex/core/file.hpp"

namespace hetex::cli {

Result<InputFile> open_input(const std::string& name);
Result<std::vector<std::uint8_t>> read_input(const std::string& name);

// '\n'-separated lines ("\r\n" too); a last line without '\n' still counts.
class LineReader {
 public:
  LineReader(InputFile in, std::size_t max_line) : in_(std::move(in)), max_line_(max_line) {}
  // false at the end. A line longer than max_line comes back empty with too_long set (the rest
  // of it is skipped), so one bad line costs no more memory than a good one.
  Result<bool> next(std::string& line, bool& too_long);
  const std::string& name() const { return in_.name(); }

 private:
  Result<bool> fill();
  InputFile in_;
  std::size_t max_line_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(std::size_t(1) << 16);
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

// "hetex COMMAND: message" on stderr, after whatever stdout holds (so a reader of both sees
// errors in input order).
void report_error(const char* command, const Error& e);
void report_error(const char* command, const std::string& message);

}  // namespace hetex::cli
