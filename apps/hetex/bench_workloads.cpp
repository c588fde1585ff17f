// SPDX-License-Identifier: MIT
// The workloads of `hetex bench`: vector add, SHA-256 and Ed25519 verification, data in host
// memory, each beside the library people would use for it, measured in the same run.

// OpenSSL's low-level SHA256_Init/Update/Final is the comparator: the fastest way to call OpenSSL
// per message (deprecated in OpenSSL 3; the one-shot SHA256() and EVP_Digest fetch the algorithm
// on every call and ran 4-50x slower across 16 threads).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sodium.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <execution>
#include <random>

#include "bench.hpp"
#include "bench_thrust.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/sha256.hpp"
#include "hetex/ops/vector.hpp"

namespace hetex::cli::bench {

std::vector<std::size_t> sweep(const Settings& s, std::size_t lo, std::size_t hi, std::size_t factor,
                               std::size_t extra) {
  std::vector<std::size_t> v;
  hi = std::max(lo, std::min(hi, s.max_size));
  for (std::size_t n = lo; n <= hi; n *= factor) v.push_back(n);
  if (extra && extra <= hi && std::find(v.begin(), v.end(), extra) == v.end()) v.push_back(extra);
  std::sort(v.begin(), v.end());
  return v;
}

Status check_report(const Result<ExecReport>& r) {
  if (!r) return r.error();
  return r->status();
}

void add_hetex_columns(Plan& plan, Devices& d, const Settings& s, const HetexRunner& r,
                       std::function<void(std::size_t)> poison, std::function<Status(std::size_t)> check) {
  auto add = [&](std::string id, std::string label, metrics::SeriesKind kind, std::function<Status(std::size_t)> run,
                 bool calibrate = false) {
    plan.columns.push_back({std::move(id), std::move(label), kind, std::move(run), poison, check, calibrate});
  };
  add("cpu_1", "hetex CPU, 1 thread", metrics::SeriesKind::cpu, [r](std::size_t n) {
    tbb::task_arena one(1);
    return one.execute([&] { return r.cpu1(n); });
  });
  const auto cores = std::to_string(d.runtime.cpu().cpu_info()->logical_cores);
  add("cpu_all", "hetex CPU, " + cores + " threads", metrics::SeriesKind::cpu,
      [r, &d](std::size_t n) { return r.scheduled(*d.cpu, n); });
  if (!s.gpus || d.gpus.empty()) return;
  for (std::size_t g = 0; g < d.gpus.size(); ++g)
    add("gpu" + std::to_string(g), "hetex " + d.gpu_labels[g], metrics::SeriesKind::gpu,
        [r, sched = d.gpus[g].get()](std::size_t n) { return r.scheduled(*sched, n); });
  add(
      "adaptive", "hetex adaptive (CPU or GPU)", metrics::SeriesKind::hybrid,
      [r, &d](std::size_t n) { return r.scheduled(*d.adaptive, n); }, true);
  add(
      "split", "hetex split (CPU + GPUs)", metrics::SeriesKind::hybrid,
      [r, &d](std::size_t n) { return r.scheduled(*d.split, n); }, true);
}

namespace {

std::mt19937_64& rng() {
  static std::mt19937_64 g(20261121);
  return g;
}

}  // namespace

Plan vector_add_plan(Devices& d, const Settings& s) {
  Plan p;
  p.meta = {.id = "vector_add", .title = "Vector add, f32", .unit = "floats", .where = "host memory to host memory"};
  p.meta.table_size = 1u << 20;
  p.sizes = s.full ? sweep(s, 1u << 10, 1u << 26, 2, 0) : sweep(s, 1u << 12, 1u << 24, 4, 0);
  const std::size_t max = p.sizes.back();
  struct Data {
    std::vector<float> a, b, c;
  };
  auto data = std::make_shared<Data>();
  std::uniform_real_distribution<float> dist(-1000.f, 1000.f);
  data->a.resize(max);
  data->b.resize(max);
  data->c.resize(max);
  for (std::size_t i = 0; i < max; ++i) {
    data->a[i] = dist(rng());
    data->b[i] = dist(rng());
  }
  auto in = [data](std::size_t n) {
    return ZipBatch<float>{std::span<const float>(data->a).first(n), std::span<const float>(data->b).first(n)};
  };
  auto out = [data](std::size_t n) { return std::span<float>(data->c).first(n); };
  auto poison = [data](std::size_t n) { std::fill_n(data->c.begin(), n, -0.0f); };
  auto check = [data](std::size_t n) -> Status {
    for (std::size_t i = 0; i < n; ++i)
      if (data->c[i] != data->a[i] + data->b[i])
        return Error(Errc::internal, "vector add: wrong sum at item " + std::to_string(i) + " of " + std::to_string(n));
    return {};
  };
  add_hetex_columns(p, d, s, ops::vector_add(), in, out, poison, check);
  p.columns.push_back({"std_par", "std::transform(par_unseq), TBB backend", metrics::SeriesKind::comparator,
                       [data](std::size_t n) -> Status {
                         std::transform(std::execution::par_unseq, data->a.begin(), data->a.begin() + n,
                                        data->b.begin(), data->c.begin(), std::plus<>{});
                         return {};
                       },
                       poison, check});
  if (s.gpus && !d.gpus.empty() && thrust_available())
    p.columns.push_back(
        {"thrust", "Thrust on cuda:0 (device_vector copies)", metrics::SeriesKind::comparator,
         [data](std::size_t n) { return thrust_vector_add(data->a.data(), data->b.data(), data->c.data(), n); }, poison,
         check});
  return p;
}

Plan sha256_plan(Devices& d, const Settings& s) {
  Plan p;
  p.meta = {
      .id = "sha256", .title = "SHA-256, 64-byte messages", .unit = "messages", .where = "host memory to host memory"};
  p.meta.table_size = 10'000;
  p.sizes = s.full ? sweep(s, 1u << 10, 1u << 24, 2, 10'000) : sweep(s, 1u << 10, 1u << 22, 4, 10'000);
  const std::size_t max = p.sizes.back();
  struct Data {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint64_t> offsets;
    std::vector<ops::Digest> out, expected;
  };
  auto data = std::make_shared<Data>();
  data->bytes.resize(max * 64);
  for (auto& b : data->bytes) b = static_cast<std::uint8_t>(rng()());
  data->offsets.resize(max + 1);
  for (std::size_t i = 0; i <= max; ++i) data->offsets[i] = i * 64;
  data->out.resize(max);
  data->expected.resize(max);
  tbb::parallel_for(std::size_t{0}, max,
                    [&](std::size_t i) { SHA256(&data->bytes[i * 64], 64, data->expected[i].data()); });
  auto in = [data](std::size_t n) {
    return ops::MessageBatch{data->bytes, std::span<const std::uint64_t>(data->offsets).first(n + 1)};
  };
  auto out = [data](std::size_t n) { return std::span<ops::Digest>(data->out).first(n); };
  auto poison = [data](std::size_t n) { std::fill_n(data->out.begin(), n, ops::Digest{}); };
  auto check = [data](std::size_t n) -> Status {
    if (!std::equal(data->out.begin(), data->out.begin() + n, data->expected.begin()))
      return Error(Errc::internal, "sha256: a digest differs from OpenSSL's in a batch of " + std::to_string(n));
    return {};
  };
  add_hetex_columns(p, d, s, ops::sha256(), in, out, poison, check);
  const auto cores = std::to_string(d.runtime.cpu().cpu_info()->logical_cores);
  p.columns.push_back({"openssl", "OpenSSL SHA256_Update, " + cores + " threads (TBB)", metrics::SeriesKind::comparator,
                       [data](std::size_t n) -> Status {
                         tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1024), [&](const auto& r) {
                           for (std::size_t i = r.begin(); i < r.end(); ++i) {
                             SHA256_CTX ctx;
                             SHA256_Init(&ctx);
                             SHA256_Update(&ctx, &data->bytes[i * 64], 64);
                             SHA256_Final(data->out[i].data(), &ctx);
                           }
                         });
                         return {};
                       },
                       poison, check});
  return p;
}

Plan ed25519_plan(Devices& d, const Settings& s) {
  Plan p;
  p.meta = {.id = "ed25519",
            .title = "Ed25519 verification, 64-byte messages",
            .unit = "signatures",
            .where = "host memory to host memory"};
  p.meta.table_size = 1'000;
  p.sizes = s.full ? sweep(s, 1u << 6, 1u << 20, 2, 1'000) : sweep(s, 1u << 6, 1u << 16, 4, 1'000);
  if (sodium_init() < 0) {
    p.meta.notes.push_back("libsodium failed to initialise; Ed25519 skipped");
    p.sizes.clear();
    return p;
  }
  const std::size_t max = p.sizes.back();
  // Distinct items up to `unique`, then repeated: verification costs the same whatever the
  // repetition, and signing a million items would dominate the run.
  const std::size_t unique = std::min<std::size_t>(max, 1u << 14);
  struct Data {
    std::vector<ops::PublicKey> keys;
    std::vector<ops::Signature> sigs;
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint64_t> offsets;
    std::vector<ops::Verdict> out, expected;
  };
  auto data = std::make_shared<Data>();
  data->keys.resize(max);
  data->sigs.resize(max);
  data->bytes.resize(max * 64);
  data->offsets.resize(max + 1);
  data->out.resize(max);
  data->expected.resize(max);
  for (auto& b : data->bytes) b = static_cast<std::uint8_t>(rng()());
  for (std::size_t i = 0; i <= max; ++i) data->offsets[i] = i * 64;
  std::vector<std::uint64_t> seeds(unique);
  for (auto& x : seeds) x = rng()();
  tbb::parallel_for(std::size_t{0}, unique, [&](std::size_t i) {
    unsigned char seed[32] = {}, pk[32], sk[64];
    std::memcpy(seed, &seeds[i], sizeof seeds[i]);
    crypto_sign_seed_keypair(pk, sk, seed);
    std::memcpy(data->keys[i].data(), pk, 32);
    crypto_sign_detached(data->sigs[i].data(), nullptr, &data->bytes[i * 64], 64, sk);
    // One item in eight is corrupted (signature, message or key), so verdicts are mixed.
    data->expected[i] = ops::Verdict::valid;
    if (seeds[i] % 8 == 0) {
      const int where = static_cast<int>((seeds[i] >> 8) % 3);
      if (where == 0)
        data->sigs[i][seeds[i] % 32] ^= 0x10;
      else if (where == 1)
        data->bytes[i * 64 + seeds[i] % 64] ^= 0x01;
      else
        data->keys[i][seeds[i] % 31] ^= 0x04;
      data->expected[i] = ops::Verdict::invalid;
    }
  });
  for (std::size_t i = unique; i < max; ++i) {
    const std::size_t j = i % unique;
    data->keys[i] = data->keys[j];
    data->sigs[i] = data->sigs[j];
    std::memcpy(&data->bytes[i * 64], &data->bytes[j * 64], 64);
    data->expected[i] = data->expected[j];
  }
  auto in = [data](std::size_t n) {
    return ops::VerifyBatch{std::span<const ops::PublicKey>(data->keys).first(n),
                            std::span<const ops::Signature>(data->sigs).first(n),
                            {data->bytes, std::span<const std::uint64_t>(data->offsets).first(n + 1)}};
  };
  auto out = [data](std::size_t n) { return std::span<ops::Verdict>(data->out).first(n); };
  auto poison = [data](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      data->out[i] = data->expected[i] == ops::Verdict::valid ? ops::Verdict::invalid : ops::Verdict::valid;
  };
  auto check = [data](std::size_t n) -> Status {
    if (!std::equal(data->out.begin(), data->out.begin() + n, data->expected.begin()))
      return Error(Errc::internal, "ed25519: a verdict differs from libsodium's in a batch of " + std::to_string(n));
    return {};
  };
  add_hetex_columns(p, d, s, ops::ed25519_verify(), in, out, poison, check);
  const auto cores = std::to_string(d.runtime.cpu().cpu_info()->logical_cores);
  p.columns.push_back({"libsodium", "libsodium, " + cores + " threads (TBB)", metrics::SeriesKind::comparator,
                       [data](std::size_t n) -> Status {
                         tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 16), [&](const auto& r) {
                           for (std::size_t i = r.begin(); i < r.end(); ++i)
                             data->out[i] = crypto_sign_verify_detached(data->sigs[i].data(), &data->bytes[i * 64], 64,
                                                                        data->keys[i].data()) == 0
                                                ? ops::Verdict::valid
                                                : ops::Verdict::invalid;
                         });
                         return {};
                       },
                       poison, check});
  return p;
}

}  // namespace hetex::cli::bench
