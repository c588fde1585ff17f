// SPDX-License-Identifier: MIT
#include "hetex/ledger/reader.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

namespace hetex::ledger {

Result<BlockReader> BlockReader::open(const std::filesystem::path& file, std::size_t block_size) {
  if (block_size == 0) return Error(Errc::invalid_argument, "block size must be at least 1");
  BlockReader r;
  r.name_ = file.string();
  r.block_size_ = block_size;
  if (r.name_ == "-") {
    r.file_ = stdin;
    r.name_ = "standard input";
  } else {
    if (std::filesystem::is_directory(file)) return Error(Errc::io, r.name_ + ": a directory, not a transactions file");
    r.file_ = std::fopen(r.name_.c_str(), "rb");
    if (!r.file_) return Error(Errc::io, r.name_ + ": cannot open (" + std::strerror(errno) + ")");
    r.owned_ = true;
  }
  r.buf_.resize(std::size_t(1) << 20);
  return r;
}

BlockReader::BlockReader(BlockReader&& o) noexcept { *this = std::move(o); }
BlockReader& BlockReader::operator=(BlockReader&& o) noexcept {
  if (this != &o) {
    if (owned_ && file_) std::fclose(file_);
    file_ = std::exchange(o.file_, nullptr);
    owned_ = std::exchange(o.owned_, false);
    name_ = std::move(o.name_);
    block_size_ = o.block_size_;
    buf_ = std::move(o.buf_);
    pos_ = o.pos_;
    end_ = o.end_;
    eof_ = o.eof_;
    lines_ = o.lines_;
    height_ = o.height_;
  }
  return *this;
}
BlockReader::~BlockReader() {
  if (owned_ && file_) std::fclose(file_);
}

Result<bool> BlockReader::read_line(std::string* out) {
  std::size_t length = 0;
  const std::size_t start = out ? out->size() : 0;
  bool any = false;
  for (;;) {
    if (pos_ == end_) {
      if (eof_) break;
      end_ = std::fread(buf_.data(), 1, buf_.size(), file_);
      pos_ = 0;
      if (end_ == 0) {
        if (std::ferror(file_)) return Error(Errc::io, name_ + ": read error after line " + std::to_string(lines_));
        eof_ = true;
        break;
      }
    }
    any = true;
    const char* begin = buf_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
    const std::size_t take = nl ? static_cast<std::size_t>(nl - begin) : end_ - pos_;
    length += take;
    if (length > kMaxLine)
      return Error(Errc::invalid_argument, name_ + ": line " + std::to_string(lines_ + 1) + " is longer than " +
                                               std::to_string(kMaxLine) + " bytes: not a transaction");
    if (out) out->append(begin, take);
    pos_ += take + (nl ? 1 : 0);
    if (nl) break;
  }
  if (!any) return false;
  ++lines_;
  if (out && out->size() > start && out->back() == '\r') out->pop_back();
  return true;
}

Result<std::optional<RawBlock>> BlockReader::next() {
  RawBlock b;
  b.first_line = lines_ + 1;
  b.offsets.reserve(block_size_ + 1);
  b.text.reserve(block_size_ * 300);
  b.offsets.push_back(0);
  while (b.offsets.size() <= block_size_) {
    if (!HETEX_TRY(read_line(&b.text))) break;
    b.offsets.push_back(b.text.size());
  }
  if (b.offsets.size() == 1) return std::optional<RawBlock>();
  b.height = ++height_;
  return std::optional<RawBlock>(std::move(b));
}

Result<std::uint64_t> BlockReader::skip(std::uint64_t blocks) {
  std::uint64_t skipped = 0;
  for (; skipped < blocks; ++skipped) {
    std::size_t lines = 0;
    while (lines < block_size_ && HETEX_TRY(read_line(nullptr))) ++lines;
    if (lines == 0) break;
    ++height_;
  }
  return skipped;
}

}  // namespace hetex::ledger
