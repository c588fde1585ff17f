// SPDX-License-Identifier: MIT
#pragma once
// The engine's messages between ranks: a fixed header, then the payload in parts of at most
// 1 GiB (MPI counts are ints). Sends never block (MPI_Isend, completed by progress()); a
// received payload lands in page-locked host memory (PinnedPool), so a GPU reads it by DMA.
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "dist/state.hpp"
#include "hetex/dist/bytes.hpp"
#include "hetex/memory/buffer.hpp"

namespace hetex::dist::detail {

enum class Kind : std::uint32_t {
  assign = 1,  // 0 -> worker: a chunk and its input
  result,      // worker -> 0: a chunk's result (status 0) or its error text (status 1)
  heartbeat,   // either way: still here
  stop,        // 0 -> worker: the job is over; send your final text and leave
  abort,       // 0 -> worker: the job failed; leave now
  stopping,    // worker -> 0: the launcher is stopping me (SIGTERM)
  final,       // worker -> 0: the last message of a job (its final text)
  snapshot,    // worker -> 0: the observer's snapshot (metrics)
  failed,      // worker -> 0: this rank cannot go on (the payload says why)
};
const char* to_string(Kind k) noexcept;

struct Header {
  Kind kind = Kind::heartbeat;
  std::uint32_t status = 0;
  std::uint64_t id = 0;
  std::uint64_t begin = 0, end = 0;
  double cost = 0;
  double seconds = 0;
  std::uint64_t payload = 0;  // bytes that follow in parts
};

// A message's payload: page-locked memory it was received into, or (for rank 0's own chunks)
// the bytes the source made.
class Payload {
 public:
  Payload() = default;
  explicit Payload(std::vector<std::uint8_t> bytes)
      : vector_(std::move(bytes)), data_(vector_.data()), size_(vector_.size()) {}
  Payload(Payload&& o) noexcept { *this = std::move(o); }
  Payload& operator=(Payload&& o) noexcept {
    pinned_ = std::move(o.pinned_);
    vector_ = std::move(o.vector_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    return *this;
  }
  static Result<Payload> allocate(std::size_t n);
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  std::uint8_t* data() noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  PinnedBuffer<std::uint8_t> pinned_;
  std::vector<std::uint8_t> vector_;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

struct Message {
  int source = 0;
  Header header;
  Payload payload;
};

class Wire {
 public:
  // `interrupted` is asked while a payload is on its way: true gives up on it (the job is being
  // stopped; a sender that died midway would otherwise hold the receive forever).
  Wire(const Comm& comm, std::function<bool()> interrupted, std::chrono::milliseconds stall_timeout)
      : state_(comm.state()), interrupted_(std::move(interrupted)), stall_timeout_(stall_timeout) {}
  ~Wire();
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  // Queues a message; `payload` (may be null) stays alive until it is sent. A payload travels as
  // parts of at most 1 GiB, a ChunkPayload's splices as parts of their own, sent from where
  // they are; the receiver learns each part's length as it arrives.
  Status post(int dest, Header h, std::shared_ptr<const std::vector<std::uint8_t>> payload = nullptr);
  Status post(int dest, Header h, std::shared_ptr<const ChunkPayload> payload);
  // Completes what it can of the queued sends. An error names the rank a send to failed.
  Status progress();
  std::size_t pending() const noexcept { return sends_.size(); }
  // Payload bytes are on their way and a send was posted or completed within the last 100 ms
  // (a receiver that takes nothing for longer is not worth a spinning sender).
  bool sending() const noexcept {
    return pending_bytes_ > 0 && std::chrono::steady_clock::now() - last_send_change_ < std::chrono::milliseconds(100);
  }
  // The next message from any rank (`from` >= 0: that rank only), its payload received in full:
  // an error when the payload stops coming for the stall timeout, or when interrupted.
  Result<std::optional<Message>> poll(int from = -1);
  // Drops queued sends (after an error, or when the job ends early): cancels what MPI allows.
  void cancel_all() noexcept;

 private:
  struct Send {
    int dest;
    Header header;
    std::shared_ptr<const void> payload;  // what the parts point into, kept until they are sent
    std::vector<MPI_Request> requests;
  };
  Status post_parts(int dest, Header h, std::shared_ptr<const void> keep,
                    const std::vector<std::span<const std::uint8_t>>& pieces);
  const Comm::State& state_;
  std::function<bool()> interrupted_;
  std::chrono::milliseconds stall_timeout_;
  std::list<Send> sends_;
  std::size_t pending_bytes_ = 0;
  std::chrono::steady_clock::time_point last_send_change_{};
};

}  // namespace hetex::dist::detail
