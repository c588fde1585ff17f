// SPDX-License-Identifier: MIT
// The async batch workflow: a producer makes batches of messages, a bounded Channel carries them
// to the hybrid scheduler, which hashes each (SHA-256) on the CPU or a GPU while the next batches
// are being made, and a consumer checks the digests, in order.
//
//   producer --Channel(4)--> submit to Scheduler --Channel(4)--> consumer
//
// Every queue is bounded, the scheduler's too: when hashing falls behind, the producer blocks in
// send() instead of piling batches up in memory. That is backpressure.
//
//   example_async_batches [--batches N] [--messages PER_BATCH]
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hetex/async/channel.hpp"
#include "hetex/hetex.hpp"

using hetex::ops::Digest;
using Clock = std::chrono::steady_clock;

namespace {

struct Batch {
  std::size_t seq = 0;
  hetex::ops::PackedMessages messages;
};

// A batch being hashed. The submission borrows `messages` and `digests`; it is declared last so
// that it is destroyed (which waits for the batch) before them. Moving a Hashing keeps the
// vectors' storage where it is, so the borrowed spans stay valid while it travels.
struct Hashing {
  std::size_t seq = 0;
  hetex::ops::PackedMessages messages;
  std::vector<Digest> digests;
  hetex::Submission done;
};

// FIPS 180-4's first example: SHA-256("abc"). Every batch starts with it.
constexpr Digest kAbc = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                         0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                         0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

hetex::ops::PackedMessages make_messages(std::size_t count, std::mt19937& rng) {
  hetex::ops::PackedMessages m;
  m.add("abc");
  std::uniform_int_distribution<std::size_t> length(0, 1024);
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 1; i < count; ++i) {
    bytes.resize(length(rng));
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    m.add(std::span<const std::uint8_t>(bytes));
  }
  return m;
}

// The digests against a one-thread CPU reference; the first message's against the known answer.
bool verify(const Hashing& h) {
  std::vector<Digest> expected(h.digests.size());
  if (!hetex::ops::sha256_cpu_serial(h.messages.view(), expected) || expected.front() != kAbc) return false;
  return expected == h.digests;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t batches = 32, per_batch = 2048;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batches")) batches = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--messages"))
      per_batch = std::max<std::size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
  }

  auto runtime = hetex::Runtime::create();
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.error().describe().c_str());
    return 1;
  }
  hetex::SchedulerOptions options;
  options.queue_capacity = 4;  // batches admitted and not finished; submit() blocks beyond that
  options.when_full = hetex::WhenFull::block;
  auto scheduler = hetex::Scheduler::create(*runtime, options);
  if (!scheduler) {
    std::fprintf(stderr, "%s\n", scheduler.error().describe().c_str());
    return 1;
  }

  hetex::Channel<Batch> to_hash(4);
  hetex::Channel<Hashing> hashed(4);
  std::atomic<long long> producer_blocked_us{0};
  std::map<hetex::DeviceId, std::size_t> items_per_device;  // the consumer's alone until it is joined
  std::size_t verified = 0;                                 // batches whose every digest is right

  std::jthread producer([&] {
    std::mt19937 rng(7);
    for (std::size_t seq = 0; seq < batches; ++seq) {
      Batch b{seq, make_messages(per_batch, rng)};
      const auto t0 = Clock::now();
      if (!to_hash.send(std::move(b))) break;  // closed: the pipeline is shutting down
      producer_blocked_us += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    }
    to_hash.close();
  });

  std::jthread consumer([&] {
    while (auto h = hashed.receive()) {
      auto report = h->done.get();
      if (!report || !report->all_ok()) {
        std::fprintf(stderr, "batch %zu: %s\n", h->seq,
                     (report ? report->status().error() : report.error()).describe().c_str());
        continue;
      }
      for (const auto& d : report->stats.devices) items_per_device[d.device] += d.items;
      if (verify(*h))
        ++verified;
      else
        std::fprintf(stderr, "batch %zu: wrong digests\n", h->seq);
    }
  });

  // The middle stage: take a batch, hand it to the scheduler, pass it on without waiting for it.
  const auto start = Clock::now();
  std::size_t bytes = 0;
  while (auto b = to_hash.receive()) {
    Hashing h{b->seq, std::move(b->messages), {}, {}};
    h.digests.resize(h.messages.size());
    bytes += h.messages.view().total_bytes();
    h.done = (*scheduler)->submit(hetex::ops::sha256(), h.messages.view(), std::span(h.digests));
    if (!hashed.send(std::move(h))) break;
  }
  hashed.close();
  consumer.join();
  const std::chrono::duration<double> took = Clock::now() - start;

  std::printf("%zu batches of %zu messages (%.1f MiB) hashed in %.0f ms; producer blocked %.0f ms by backpressure\n",
              batches, per_batch, bytes / 1048576.0, took.count() * 1e3, producer_blocked_us / 1e3);
  for (const auto& [device, items] : items_per_device)
    std::printf("  %-8s %zu messages\n", device.to_string().c_str(), items);
  if (verified != batches) {
    std::fprintf(stderr, "%zu of %zu batches failed\n", batches - verified, batches);
    return 1;
  }
  std::printf("all digests verified\n");
  return 0;
}
