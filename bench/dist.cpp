// SPDX-License-Identifier: MIT
// Throughput of one batch across MPI ranks (hetex::dist::run), and of one process alone, for
// Ed25519 verification (32-byte messages) and SHA-256 of 1 KiB messages. bench/dist.sh runs it
// in every configuration the design notes report (ranks on disjoint cores, each rank alone, one
// rank under mpirun against no MPI) and prints the comparison.
//
//   bench_dist --workload verify --seconds 3               one process, no MPI: the baseline
//   mpirun -n 4 bench_dist --workload verify --seconds 3   the ranks of a job, rank 0 reports
//
// Under mpirun, rank 0 holds the input and sends each chunk's items (--input root), or every rank
// holds it and chunks travel as ranges (--input everywhere: what a shared file system gives).
// The batch is sized from a first measured pass to last about --seconds; the best of --repeats
// timed passes is reported, as one JSON line on stdout (rank 0 only):
//   {"workload","mode","ranks","items","seconds","items_per_s","per_rank":[...]}
// Every pass's results are checked against a reference computed once on the CPU.
//
// --policy pinned (the default) runs each rank's batches on its first GPU where it has one, else
// on its CPU: what is measured is the distribution, not the scheduler's calibration. Under
// adaptive and split each rank first measures its devices at the sizes its chunks take, and a
// job's chunks grow with the speed measured so far (docs/design/distributed.md, "Scaling").
//
//   mpirun -n 4 bench_dist --workload sha256 --independent 1
// runs every rank's own batch at the same time, without hetex::dist (each sized from its own
// passes, the timed ones started together): the sum of what the ranks reach side by side, where
// they share the machine's memory bus and nothing else. Rank 0 prints "items_per_s" as that sum.
//
//   mpirun -n 3 bench_dist --workload noop --chunk-items 64
// measures the engine itself: chunks of 64 items that cost nothing (one 8-byte copy each), so
// that the time per chunk is the round trip of a chunk (assignment, result, bookkeeping).
#include <sodium.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "hetex/dist/batch.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/sha256.hpp"

using namespace hetex;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string workload = "verify";
  std::string input = "root";  // root | everywhere
  std::string policy = "pinned";
  double seconds = 3;
  int repeats = 3;
  double chunk_seconds = 0.5;
  std::size_t max_items = 0;    // 0: 2^25 verifications (4.4 GB of input), 2^23 KiB messages (8 GiB)
  std::size_t chunk_items = 0;  // noop: the items of every chunk
  bool independent = false;     // under mpirun: each rank its own batch, no dist::run
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_dist: %s\nusage: bench_dist [--workload verify|sha256] [--input root|everywhere] "
               "[--policy pinned|split|adaptive] [--seconds S] [--repeats N] [--chunk-seconds S] [--max-items N] "
               "[--independent 0|1]\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + k).c_str());
    std::string v = argv[++i];
    if (k == "--workload")
      a.workload = v;
    else if (k == "--input")
      a.input = v;
    else if (k == "--policy")
      a.policy = v;
    else if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--repeats")
      a.repeats = std::stoi(v);
    else if (k == "--chunk-seconds")
      a.chunk_seconds = std::stod(v);
    else if (k == "--max-items")
      a.max_items = std::stoull(v);
    else if (k == "--chunk-items")
      a.chunk_items = std::stoull(v);
    else if (k == "--independent")
      a.independent = v == "1";
    else
      usage(("unknown option " + k).c_str());
  }
  if (a.workload != "verify" && a.workload != "sha256" && a.workload != "noop")
    usage("--workload is verify, sha256 or noop");
  if (a.workload == "noop" && a.chunk_items == 0) a.chunk_items = 64;
  if (a.input != "root" && a.input != "everywhere") usage("--input is root or everywhere");
  if (a.policy != "pinned" && a.policy != "split" && a.policy != "adaptive")
    usage("--policy is pinned, split or adaptive");
  if (a.max_items == 0) a.max_items = std::size_t(1) << (a.workload == "verify" ? 25 : 23);
  return a;
}

// n items: `distinct` real ones repeated (signing is slow; verifying a repeat costs the same).
struct VerifyData {
  std::vector<ops::PublicKey> keys;
  std::vector<ops::Signature> sigs;
  ops::PackedMessages msgs;
  ops::VerifyBatch batch() const { return {keys, sigs, msgs.view()}; }
};
constexpr std::size_t kDistinct = 4096;
VerifyData make_verify(std::size_t n) {
  if (sodium_init() < 0) std::abort();
  constexpr std::size_t kBytes = 32;
  VerifyData d;
  std::vector<ops::PublicKey> pk(kDistinct);
  std::vector<ops::Signature> sg(kDistinct);
  std::vector<std::array<std::uint8_t, kBytes>> m(kDistinct);
  tbb::parallel_for(std::size_t(0), kDistinct, [&](std::size_t i) {
    std::mt19937_64 rng(i + 1);
    std::array<std::uint8_t, 32> seed;
    std::array<std::uint8_t, 64> sk;
    for (auto& b : seed) b = static_cast<std::uint8_t>(rng());
    for (auto& b : m[i]) b = static_cast<std::uint8_t>(rng());
    crypto_sign_seed_keypair(pk[i].data(), sk.data(), seed.data());
    crypto_sign_detached(sg[i].data(), nullptr, m[i].data(), kBytes, sk.data());
    if (i % 20 == 7) sg[i][5] ^= 1;  // some invalid
  });
  d.keys.resize(n);
  d.sigs.resize(n);
  d.msgs.reserve(n, n * kBytes);
  for (std::size_t i = 0; i < n; ++i) {
    d.keys[i] = pk[i % kDistinct];
    d.sigs[i] = sg[i % kDistinct];
    d.msgs.add(std::span<const std::uint8_t>(m[i % kDistinct]));
  }
  return d;
}

// n 1 KiB messages: kDistinct random ones repeated (hashing a repeat costs the same).
ops::PackedMessages make_sha(std::size_t n) {
  std::vector<std::array<std::uint8_t, 1024>> m(kDistinct);
  tbb::parallel_for(std::size_t(0), kDistinct, [&](std::size_t i) {
    std::mt19937_64 rng(i + 99);
    for (std::size_t k = 0; k < m[i].size(); k += 8) {
      const auto v = rng();
      std::memcpy(m[i].data() + k, &v, 8);
    }
  });
  ops::PackedMessages p;
  p.reserve(n, n * 1024);
  for (std::size_t i = 0; i < n; ++i) p.add(std::span<const std::uint8_t>(m[i % kDistinct]));
  return p;
}

struct Pass {
  double seconds = 0;
  dist::JobReport job;
};

template <class In, class Out>
Pass timed_pass(const std::optional<dist::Comm>& comm, Scheduler& s, const Operation<In, Out>& op, const In& in,
                std::span<Out> out, const Args& a) {
  Pass p;
  if (comm) (void)comm->barrier();
  const auto t0 = Clock::now();
  if (comm) {
    dist::JobOptions o;
    o.chunk_seconds = a.chunk_seconds;
    // Each rank's first chunk: milliseconds on any rank (32 MiB of messages to hash; 4096
    // signatures, a tenth of a second on four cores).
    o.probe_cost = a.workload == "sha256" ? 32768 : 4096;
    if (a.chunk_items) o.probe_cost = o.min_cost = o.max_cost = static_cast<double>(a.chunk_items);
    o.timeout = std::chrono::milliseconds(600'000);
    auto r = dist::run(*comm, s, op, (comm->is_root() || a.input == "everywhere") ? in : In{}, out, o,
                       a.input == "everywhere" ? dist::InputAt::every_rank : dist::InputAt::root);
    if (!r || !r->all_ok()) {
      std::fprintf(stderr, "bench_dist: %s\n", !r ? r.error().describe().c_str() : "items failed");
      std::exit(1);
    }
    p.job = r->job;
  } else {
    auto r = s.run(op, in, out);
    if (!r || !r->all_ok()) {
      std::fprintf(stderr, "bench_dist: %s\n", !r ? r.error().describe().c_str() : "items failed");
      std::exit(1);
    }
  }
  p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return p;
}

// --independent: every rank sizes and runs its own batch (no dist::run); the timed passes start
// together (a barrier before each), and rank 0 prints the sum of the ranks' rates.
template <class In, class Out>
int measure_together(const dist::Comm& comm, Scheduler& s, const Operation<In, Out>& op, const Args& a, auto make,
                     auto view) {
  const std::optional<dist::Comm> none;
  auto pass = [&](std::size_t n) {
    auto data = make(n);
    std::vector<Out> out(n);
    return std::max(1e-3, timed_pass(none, s, op, view(data), std::span(out), a).seconds);
  };
  std::size_t n = 4096;
  double took = pass(n);
  while (took < 0.25 && n < a.max_items) took = pass(n = std::min(a.max_items, n * 4));
  n = std::clamp<std::size_t>(static_cast<std::size_t>(double(n) / took * a.seconds), 4096, a.max_items);
  auto data = make(n);
  std::vector<Out> out(n);
  double best = 1e300;
  for (int i = 0; i < a.repeats; ++i) {
    (void)comm.barrier();
    best = std::min(best, timed_pass(none, s, op, view(data), std::span(out), a).seconds);
  }
  const auto rates = comm.gather(std::to_string(double(n) / best)).value();
  if (!comm.is_root()) return 0;
  nlohmann::json j = {{"workload", a.workload},
                      {"mode", "independent"},
                      {"ranks", comm.size()},
                      {"items_per_s", 0.0},
                      {"per_rank", nlohmann::json::array()}};
  double sum = 0;
  for (const auto& r : rates) {
    sum += std::stod(r);
    j["per_rank"].push_back(std::stod(r));
  }
  j["items_per_s"] = sum;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

template <class In, class Out>
int measure(const std::optional<dist::Comm>& comm, Scheduler& s, const Operation<In, Out>& op, const Args& a, auto make,
            auto view, auto reference, const char* name) {
  if (comm && a.independent) return measure_together(*comm, s, op, a, make, view);
  const bool root = !comm || comm->is_root();
  const bool holds = root || a.input == "everywhere";
  // A sizing pass of n items: rank 0's seconds, broadcast, so that every rank takes the same
  // sizing decisions and the collectives stay matched.
  auto pass_seconds = [&](std::size_t n) {
    auto data = make(holds ? n : 0);
    std::vector<Out> out(root ? n : 0);
    std::string t = std::to_string(timed_pass(comm, s, op, view(data), std::span(out), a).seconds);
    if (comm) t = comm->broadcast(t).value();
    return std::max(1e-3, std::stod(t));
  };
  // Size the batch from passes of growing size, until one takes a quarter second (they also warm
  // every rank and its cost model up).
  std::size_t n = 4096;
  double took = pass_seconds(n);
  while (took < 0.25 && n < a.max_items) {
    n = std::min(a.max_items, n * 4);
    took = pass_seconds(n);
  }
  // A job's rate grows with its size (its first and last chunks are the smaller ones), so a batch
  // sized from a short pass runs shorter than asked: size again from passes of the estimate, until
  // one lasts at least half of --seconds.
  auto resize = [&] {
    n = std::clamp<std::size_t>(static_cast<std::size_t>(double(n) / took * a.seconds), 4096, a.max_items);
  };
  resize();
  for (int k = 0; k < 3 && n < a.max_items; ++k) {
    took = pass_seconds(n);
    if (took >= 0.5 * a.seconds) break;
    resize();
  }
  auto data = make(holds ? n : 0);
  std::vector<Out> out(root ? n : 0);
  std::vector<Out> want;
  if (root) want = reference(data, n);
  Pass best;
  best.seconds = 1e300;
  for (int i = 0; i < a.repeats; ++i) {
    std::fill(out.begin(), out.end(), Out{});
    auto p = timed_pass(comm, s, op, view(data), std::span(out), a);
    if (root && std::memcmp(out.data(), want.data(), out.size() * sizeof(Out)) != 0) {
      std::fprintf(stderr, "bench_dist: results differ from the CPU reference\n");
      return 1;
    }
    if (p.seconds < best.seconds) best = p;
  }
  if (!root) return 0;
  std::size_t chunks = 0;
  for (const auto& r : best.job.ranks) chunks += r.chunks;
  nlohmann::json j = {{"workload", name},
                      {"mode", comm ? (comm->uses_mpi() ? "mpi" : "local") : "no_mpi"},
                      {"input", a.input},
                      {"policy", a.policy},
                      {"ranks", comm ? comm->size() : 1},
                      {"items", n},
                      {"seconds", best.seconds},
                      {"items_per_s", n / best.seconds},
                      {"chunks", chunks},
                      {"seconds_per_chunk", chunks ? best.seconds / chunks : 0.0},
                      {"per_rank", nlohmann::json::array()}};
  for (const auto& r : best.job.ranks)
    j["per_rank"].push_back({{"rank", r.rank}, {"host", r.host}, {"items", r.cost}, {"chunks", r.chunks}});
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  std::optional<dist::Comm> comm;
  if (dist::Comm::launched_by_mpi()) {
    auto c = dist::Comm::init(&argc, &argv);
    if (!c) {
      std::fprintf(stderr, "bench_dist: %s\n", c.error().describe().c_str());
      return 1;
    }
    comm.emplace(std::move(*c));
  }
  auto rt = Runtime::create({.announce_cpu_only = false});
  if (!rt) {
    std::fprintf(stderr, "bench_dist: %s\n", rt.error().describe().c_str());
    return 1;
  }
  SchedulerOptions so;
  if (a.policy == "pinned") so.policy = PinnedPolicy{rt->select(SelectPolicy::first_gpu_or_cpu).id()};
  if (a.policy == "split") so.policy = SplitPolicy{};
  so.calibration_file = std::filesystem::path{};  // every run calibrates afresh, alike
  auto s = Scheduler::create(*rt, so);
  if (!s) {
    std::fprintf(stderr, "bench_dist: %s\n", s.error().describe().c_str());
    return 1;
  }
  if (a.workload == "noop") {
    static const Operation<SpanBatch<std::uint64_t>, std::uint64_t> copy(
        "noop", [](const SpanBatch<std::uint64_t>& in, std::span<std::uint64_t> out) -> Status {
          std::copy(in.items.begin(), in.items.end(), out.begin());
          return {};
        });
    so.policy = PinnedPolicy{DeviceId::cpu()};
    auto cpu = Scheduler::create(Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(), so).value();
    auto make = [](std::size_t n) {
      std::vector<std::uint64_t> v(n);
      std::iota(v.begin(), v.end(), 1);
      return v;
    };
    auto reference = [](const std::vector<std::uint64_t>& v, std::size_t) { return v; };
    Args fixed = a;
    fixed.max_items = a.chunk_items * 2000;  // 2000 chunks
    fixed.seconds = 1e9;
    return measure<SpanBatch<std::uint64_t>, std::uint64_t>(
        comm, *cpu, copy, fixed, make, [](const std::vector<std::uint64_t>& v) { return SpanBatch<std::uint64_t>{v}; },
        reference, "noop");
  }
  if (a.workload == "verify") {
    // The items repeat every kDistinct: libsodium's verdicts on those, repeated.
    auto reference = [](const VerifyData& d, std::size_t n) {
      const std::size_t k = std::min(n, kDistinct);
      std::vector<ops::Verdict> once(k), all(n);
      if (!ops::ed25519_verify_cpu(d.batch().slice(0, k), once)) std::abort();
      for (std::size_t i = 0; i < n; ++i) all[i] = once[i % k];
      return all;
    };
    return measure<ops::VerifyBatch, ops::Verdict>(
        comm, **s, ops::ed25519_verify(), a, make_verify, [](const VerifyData& d) { return d.batch(); }, reference,
        "ed25519_verify");
  }
  auto reference = [](const ops::PackedMessages& p, std::size_t n) {
    const std::size_t k = std::min(n, kDistinct);
    std::vector<ops::Digest> once(k), all(n);
    if (!ops::sha256_cpu(p.view().slice(0, k), once)) std::abort();
    for (std::size_t i = 0; i < n; ++i) all[i] = once[i % k];
    return all;
  };
  return measure<ops::MessageBatch, ops::Digest>(
      comm, **s, ops::sha256(), a, make_sha, [](const ops::PackedMessages& p) { return p.view(); }, reference,
      "sha256_1KiB");
}
