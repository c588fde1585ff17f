// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Reads a transactions file in blocks: consecutive groups of block_size lines (the last block may
/// be shorter). The text is kept, because a transaction's id is the hash of its line.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/ops/messages.hpp"

namespace hetex::ledger {

/// One block of a transactions file, as text: its lines, not parsed yet.
struct RawBlock {
  std::uint64_t height = 0;            ///< 1 for the file's first block
  std::uint64_t first_line = 0;        ///< the file's line number (1-based) of the block's first line
  std::string text;                    ///< the lines end to end, without their newlines (or a trailing carriage return)
  std::vector<std::uint64_t> offsets;  ///< line i is text[offsets[i], offsets[i + 1])

  std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::string_view line(std::size_t i) const noexcept {
    return std::string_view(text).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  ops::MessageBatch lines() const noexcept {
    return {std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), offsets};
  }
};

/// Reads a transactions file block by block (see the file's description), with bounded memory.
/// Move-only; one thread at a time.
class BlockReader {
 public:
  /// Lines longer than this are not transactions (a valid line has at most 298 characters); the
  /// reader stops there rather than buffer without bound.
  static constexpr std::size_t kMaxLine = 4096;

  /// "-" reads standard input.
  static Result<BlockReader> open(const std::filesystem::path& file, std::size_t block_size);
  BlockReader(BlockReader&&) noexcept;
  BlockReader& operator=(BlockReader&&) noexcept;
  ~BlockReader();

  /// The next block; nullopt at the end of the input.
  Result<std::optional<RawBlock>> next();
  /// Passes over up to `blocks` blocks without keeping them; how many there were.
  Result<std::uint64_t> skip(std::uint64_t blocks);

 private:
  BlockReader() = default;
  /// Appends the next line (without newline) to *out when out is not null; false at the end.
  Result<bool> read_line(std::string* out);

  std::FILE* file_ = nullptr;
  bool owned_ = false;
  std::string name_;
  std::size_t block_size_ = 0;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  std::uint64_t lines_ = 0, height_ = 0;
};

}  // namespace hetex::ledger
