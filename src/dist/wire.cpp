// SPDX-License-Identifier: MIT
#include "dist/wire.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "hetex/memory/pool.hpp"

namespace hetex::dist::detail {

namespace {
constexpr int kTagHeader = 0x4858;  // "HX"
constexpr int kTagPart = 0x4859;
constexpr std::size_t kPartBytes = std::size_t(1) << 30;

}  // namespace

const char* to_string(Kind k) noexcept {
  switch (k) {
    case Kind::assign: return "assign";
    case Kind::result: return "result";
    case Kind::heartbeat: return "heartbeat";
    case Kind::stop: return "stop";
    case Kind::abort: return "abort";
    case Kind::stopping: return "stopping";
    case Kind::final: return "final";
    case Kind::snapshot: return "snapshot";
    case Kind::failed: return "failed";
  }
  return "unknown";
}

Result<Payload> Payload::allocate(std::size_t n) {
  Payload p;
  if (n == 0) return p;
  p.pinned_ = HETEX_TRY(PinnedPool::shared().acquire<std::uint8_t>(n));
  p.data_ = p.pinned_.span().data();
  p.size_ = n;
  return p;
}

Wire::~Wire() {
  // Sends still queued get a moment to complete; past that their buffers are left to MPI for
  // good (freeing memory an unfinished send may still read would be worse than the leak).
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (!sends_.empty() && std::chrono::steady_clock::now() < until && progress()) {}
  cancel_all();
}

Status Wire::post(int dest, Header h, std::shared_ptr<const std::vector<std::uint8_t>> payload) {
  std::vector<std::span<const std::uint8_t>> pieces;
  if (payload && !payload->empty()) pieces.emplace_back(*payload);
  return post_parts(dest, h, std::move(payload), pieces);
}

Status Wire::post(int dest, Header h, std::shared_ptr<const ChunkPayload> payload) {
  std::vector<std::span<const std::uint8_t>> pieces;
  if (payload) payload->for_each_piece([&](std::span<const std::uint8_t> p) { pieces.push_back(p); });
  return post_parts(dest, h, std::move(payload), pieces);
}

Status Wire::post_parts(int dest, Header h, std::shared_ptr<const void> keep,
                        const std::vector<std::span<const std::uint8_t>>& pieces) {
  std::vector<std::span<const std::uint8_t>> parts;
  h.payload = 0;
  for (auto p : pieces) {
    h.payload += p.size();
    for (std::size_t off = 0; off < p.size(); off += kPartBytes)
      parts.push_back(p.subspan(off, std::min(kPartBytes, p.size() - off)));
  }
  auto& s = sends_.emplace_back(Send{dest, h, std::move(keep), {}});
  s.requests.resize(1 + parts.size(), MPI_REQUEST_NULL);
  int rc = MPI_Isend(&s.header, sizeof(Header), MPI_BYTE, dest, kTagHeader, state_.comm, &s.requests[0]);
  for (std::size_t i = 0; rc == MPI_SUCCESS && i < parts.size(); ++i)
    rc = MPI_Isend(parts[i].data(), static_cast<int>(parts[i].size()), MPI_BYTE, dest, kTagPart, state_.comm,
                   &s.requests[i + 1]);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "sending a message to rank " + std::to_string(dest));
  pending_bytes_ += s.header.payload;
  last_send_change_ = std::chrono::steady_clock::now();
  return {};
}

Status Wire::progress() {
  for (auto it = sends_.begin(); it != sends_.end();) {
    int done = 0;
    const int rc = MPI_Testall(static_cast<int>(it->requests.size()), it->requests.data(), &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
      return mpi_error(
          rc, std::string("sending a ") + to_string(it->header.kind) + " message to rank " + std::to_string(it->dest));
    if (!done) {
      ++it;
      continue;
    }
    pending_bytes_ -= it->header.payload;
    last_send_change_ = std::chrono::steady_clock::now();
    it = sends_.erase(it);
  }
  return {};
}

Result<std::optional<Message>> Wire::poll(int from) {
  int flag = 0;
  MPI_Message handle;
  MPI_Status status;
  int rc = MPI_Improbe(from < 0 ? MPI_ANY_SOURCE : from, kTagHeader, state_.comm, &flag, &handle, &status);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "probing for messages");
  if (!flag) return std::optional<Message>{};
  Message m;
  m.source = status.MPI_SOURCE;
  rc = MPI_Mrecv(&m.header, sizeof(Header), MPI_BYTE, &handle, MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "receiving a message from rank " + std::to_string(m.source));
  if (m.header.payload) {
    m.payload = HETEX_TRY(Payload::allocate(m.header.payload));
    // The parts follow their header at once, in order; a sender that dies midway must not hold
    // this rank.
    std::vector<MPI_Request> parts;
    std::size_t received = 0;  // bytes of parts matched so far
    // Every way out before the payload is complete: receives already posted may still write
    // into the buffer, which is therefore left allocated for good.
    auto give_up = [&](Error e) {
      for (auto& r : parts)
        if (r != MPI_REQUEST_NULL) {
          MPI_Cancel(&r);
          MPI_Request_free(&r);
        }
      static auto* abandoned = new std::vector<Payload>;
      abandoned->push_back(std::move(m.payload));
      return e;
    };
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      while (received < m.header.payload) {
        int found = 0;
        MPI_Message part;
        rc = MPI_Improbe(m.source, kTagPart, state_.comm, &found, &part, &status);
        if (rc != MPI_SUCCESS) return give_up(mpi_error(rc, "probing for a message's parts"));
        if (!found) break;
        int count = 0;
        MPI_Get_count(&status, MPI_BYTE, &count);
        if (count <= 0 || static_cast<std::size_t>(count) > m.header.payload - received) {
          char sink;  // the matched part must be received; its bytes go nowhere
          MPI_Request r = MPI_REQUEST_NULL;
          if (MPI_Imrecv(&sink, 0, MPI_BYTE, &part, &r) == MPI_SUCCESS) parts.push_back(r);
          return give_up(Error(Errc::internal, "rank " + std::to_string(m.source) +
                                                   " sent a part that does not fit its " + to_string(m.header.kind) +
                                                   " message"));
        }
        auto& req = parts.emplace_back(MPI_REQUEST_NULL);
        rc = MPI_Imrecv(m.payload.data() + received, count, MPI_BYTE, &part, &req);
        if (rc != MPI_SUCCESS) return give_up(mpi_error(rc, "receiving from rank " + std::to_string(m.source)));
        received += static_cast<std::size_t>(count);
      }
      int done = 0;
      rc = MPI_Testall(static_cast<int>(parts.size()), parts.data(), &done, MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS)
        return give_up(mpi_error(rc, std::string("receiving a ") + to_string(m.header.kind) + " message from rank " +
                                         std::to_string(m.source)));
      if (done && received == m.header.payload) break;
      if (interrupted_ && interrupted_())
        return give_up(Error(Errc::cancelled, "stopped while receiving from rank " + std::to_string(m.source)));
      if (std::chrono::steady_clock::now() - start > stall_timeout_)
        return give_up(Error(Errc::unavailable, "rank " + std::to_string(m.source) + " stopped sending a " +
                                                    to_string(m.header.kind) + " message midway"));
      std::this_thread::yield();
    }
  }
  return std::optional<Message>(std::move(m));
}

void Wire::cancel_all() noexcept {
  static auto* abandoned = new std::list<Send>;  // never freed: MPI may still read them
  for (auto& s : sends_)
    for (auto& r : s.requests)
      if (r != MPI_REQUEST_NULL) {
        MPI_Cancel(&r);
        MPI_Request_free(&r);
      }
  abandoned->splice(abandoned->end(), sends_);
  pending_bytes_ = 0;
}

}  // namespace hetex::dist::detail
