// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Bytes on the wire: what a chunk's input and result become between ranks. ByteWriter appends
/// plain values, strings and arrays; ByteReader reads them back with every length checked, so a
/// malformed message is an error, never a read out of bounds.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::dist {

/// A chunk's input on its way to a rank: bytes, with spans of memory spliced in between them.
/// A spliced span is sent from where it is (rank 0 copies nothing; over shared memory the
/// receiving rank reads it straight from rank 0's memory) and must stay valid until the job
/// ends. The receiving rank sees one contiguous buffer: the bytes and the splices in order.
class ChunkPayload {
 public:
  struct Splice {
    std::size_t at;  ///< inserted before bytes()[at]
    std::span<const std::uint8_t> bytes;
  };
  std::vector<std::uint8_t>& bytes() noexcept { return bytes_; }  ///< the bytes between the splices
  const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }
  const std::vector<Splice>& splices() const noexcept { return splices_; }
  /// Appends a span by reference.
  void splice(std::span<const std::uint8_t> s) {
    if (s.empty()) return;
    splices_.push_back({bytes_.size(), s});
    spliced_ += s.size();
  }
  std::size_t size() const noexcept { return bytes_.size() + spliced_; }  ///< as the receiver sees it
  bool empty() const noexcept { return size() == 0; }
  /// Calls f(span) for each contiguous piece, in order (empty pieces skipped).
  template <class F>
  void for_each_piece(F&& f) const {
    std::size_t from = 0;
    for (const auto& s : splices_) {
      if (s.at > from) f(std::span<const std::uint8_t>(bytes_.data() + from, s.at - from));
      f(s.bytes);
      from = s.at;
    }
    if (bytes_.size() > from) f(std::span<const std::uint8_t>(bytes_.data() + from, bytes_.size() - from));
  }
  /// The whole payload in one buffer.
  std::vector<std::uint8_t> flatten() && {
    if (splices_.empty()) return std::move(bytes_);
    std::vector<std::uint8_t> out;
    out.reserve(size());
    for_each_piece([&](std::span<const std::uint8_t> p) { out.insert(out.end(), p.begin(), p.end()); });
    return out;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::vector<Splice> splices_;
  std::size_t spliced_ = 0;
};

/// Appends values to a byte buffer in the wire format hetex::dist uses (host byte order: every rank
/// of a job runs on the same architecture). Borrows the buffer.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  explicit ByteWriter(ChunkPayload& out) : out_(out.bytes()), payload_(&out) {}
  /// Appends the bytes of v.
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put_array(std::span<const T> items) {  // the count, then the items, 8-byte aligned
    pad(8);
    put<std::uint64_t>(items.size());
    put_raw(std::as_bytes(items));
    pad(8);
  }
  /// As put_array; into a ChunkPayload, a large array is spliced in rather than copied, so it
  /// must stay valid until the job ends.
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put_array_borrowed(std::span<const T> items) {
    const auto bytes = std::as_bytes(items);
    if (!payload_ || bytes.size() < kSpliceBytes) return put_array(items);
    pad(8);
    put<std::uint64_t>(items.size());
    payload_->splice({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    pad(8);
  }
  /// Zeros up to the next multiple of `alignment`.
  void pad(std::size_t alignment) {
    const std::size_t n = size();
    out_.resize(out_.size() + ((n + alignment - 1) / alignment * alignment - n), 0);
  }
  /// The length, then the characters.
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  /// The bytes as they are.
  void put_raw(std::span<const std::byte> bytes) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    out_.insert(out_.end(), p, p + bytes.size());
  }
  /// Bytes written so far, spliced ones included.
  std::size_t size() const noexcept { return payload_ ? payload_->size() : out_.size(); }

 private:
  static constexpr std::size_t kSpliceBytes = 64 * 1024;
  std::vector<std::uint8_t>& out_;
  ChunkPayload* payload_ = nullptr;
};

/// Reads what a ByteWriter wrote, checking every length against the bytes that are there: a short
/// or corrupt message is an Errc::internal error, never a read out of bounds. Borrows the
/// buffer; views it hands out point into it.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> in) : in_(in) {}
  /// A value written by put().
  template <class T>
  requires std::is_trivially_copyable_v<T> Result<T> get() {
    if (in_.size() - pos_ < sizeof(T)) return truncated(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  /// A view of an array written by put_array; it points into the reader's buffer, whose start
  /// must be 8-byte aligned (every buffer hetex::dist receives into is).
  template <class T>
  requires std::is_trivially_copyable_v<T> Result<std::span<const T>> get_array() {
    static_assert(alignof(T) <= 8);
    HETEX_TRY_VOID(align(8));
    const auto n = HETEX_TRY(get<std::uint64_t>());
    if (n > (in_.size() - pos_) / sizeof(T)) return truncated(n * sizeof(T));
    const auto* p = in_.data() + pos_;
    if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) != 0)
      return Error(Errc::internal, "message buffer is not 8-byte aligned");
    pos_ += n * sizeof(T);
    HETEX_TRY_VOID(align(8));
    return std::span<const T>(reinterpret_cast<const T*>(p), n);
  }
  /// A string written by put_string(), as a view into the buffer.
  Result<std::string_view> get_string() {
    const auto n = HETEX_TRY(get<std::uint64_t>());
    if (n > in_.size() - pos_) return truncated(n);
    std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  /// The next n bytes, as a view into the buffer.
  Result<std::span<const std::uint8_t>> get_raw(std::size_t n) {
    if (n > in_.size() - pos_) return truncated(n);
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  /// Skips to the next multiple of `alignment` from the start of the buffer (the end at most).
  Status align(std::size_t alignment) {
    const std::size_t to = std::min(in_.size(), (pos_ + alignment - 1) / alignment * alignment);
    pos_ = to;
    return {};
  }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }  ///< bytes not read yet
  std::size_t position() const noexcept { return pos_; }                ///< bytes read so far

 private:
  Error truncated(std::size_t want) const {
    return Error(Errc::internal, "message truncated: " + std::to_string(want) + " bytes wanted at offset " +
                                     std::to_string(pos_) + " of " + std::to_string(in_.size()));
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

}  // namespace hetex::dist
