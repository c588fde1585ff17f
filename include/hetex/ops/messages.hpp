// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::ops {

/// A batch of variable-length messages packed end to end: message i is
/// data[offsets[i], offsets[i + 1]). Offsets are absolute into `data`, so slicing a batch is O(1)
/// and never copies; a batch of n messages has n + 1 offsets (none for an empty batch).
struct MessageBatch {
  std::span<const std::uint8_t> data;
  std::span<const std::uint64_t> offsets;

  std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }  ///< the number of messages
  const void* host_data() const noexcept { return data.data(); }
  /// Messages [begin, end), without copying.
  MessageBatch slice(std::size_t begin, std::size_t end) const noexcept {
    if (begin >= end) return {data, {}};
    return {data, offsets.subspan(begin, end - begin + 1)};
  }
  /// Message i.
  std::span<const std::uint8_t> operator[](std::size_t i) const noexcept {
    return data.subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
  /// The bytes of all messages together.
  std::size_t total_bytes() const noexcept { return offsets.empty() ? 0 : offsets.back() - offsets.front(); }

  /// Offsets must be non-decreasing and inside `data`; every operation checks this before it
  /// touches a byte, so a bad batch is an invalid_argument error rather than a read out of bounds.
  Status validate() const {
    if (offsets.size() == 1)
      return Error(Errc::invalid_argument, "message batch has one offset; n messages need n + 1");
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i)
      if (offsets[i + 1] < offsets[i])
        return Error(Errc::invalid_argument, "message batch offsets decrease at message " + std::to_string(i));
    if (!offsets.empty() && offsets.back() > data.size())
      return Error(Errc::invalid_argument, "message batch offsets end at byte " + std::to_string(offsets.back()) +
                                               " but the data has " + std::to_string(data.size()) + " bytes");
    return {};
  }
};

/// The cost class of a batch whose cost per message grows with its length: the mean length
/// rounded up to a power of two ("64B", "1KiB", "64KiB"), so the scheduler models short and long
/// messages apart. Empty for an empty batch.
inline std::string length_cost_class(const MessageBatch& b) {
  if (b.size() == 0) return {};
  std::size_t mean = (b.total_bytes() + b.size() - 1) / b.size(), bucket = 16;
  while (bucket < mean) bucket *= 2;
  if (bucket < 1024) return std::to_string(bucket) + "B";
  if (bucket < (1u << 20)) return std::to_string(bucket >> 10) + "KiB";
  return std::to_string(bucket >> 20) + "MiB";
}

/// Owns the storage a MessageBatch views.
class PackedMessages {
 public:
  PackedMessages() = default;
  /// Room for `messages` messages of `bytes` bytes in all.
  void reserve(std::size_t messages, std::size_t bytes) {
    offsets_.reserve(messages + 1);
    data_.reserve(bytes);
  }
  /// Appends a copy of `message`.
  void add(std::span<const std::uint8_t> message) {
    if (offsets_.empty()) offsets_.push_back(0);
    data_.insert(data_.end(), message.begin(), message.end());
    offsets_.push_back(data_.size());
  }
  void add(std::string_view message) {
    add(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()));
  }
  std::size_t size() const noexcept { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  /// The bytes of all messages together.
  std::size_t bytes() const noexcept { return data_.size(); }
  /// Valid until the next add() or the end of this object.
  MessageBatch view() const noexcept { return {data_, offsets_}; }

 private:
  std::vector<std::uint8_t> data_;
  std::vector<std::uint64_t> offsets_;
};

}  // namespace hetex::ops
