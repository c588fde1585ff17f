// SPDX-License-Identifier: MIT
// bench_vulkan: every built-in workload on the Vulkan backend beside hetex's CUDA path on the
// same GPU (host -> host and device-resident) and the CPU backend, in one run:
//   vector add    host->host: PCIe bytes/s (12 bytes an item); resident: memory bytes/s
//   SHA-256       64-byte messages host->host, 1 KiB messages resident: msgs/s
//   Ed25519       64-byte messages host->host: sigs/s (CUDA has no device-resident entry)
//   image         gray -> blur (sigma 2) -> Sobel of an RGBA frame, host->host and resident: frames/s
//   reduction     square, keep below 0.25, sum (Vulkan also counts, min, max): elements/s
// Targets on an H100: SHA-256, image and reductions >= 70% of CUDA, Ed25519 >= 50%, vector add at
// the PCIe limit. The Vulkan device is vulkan:$HETEX_VULKAN_DEVICE, else the default selection's
// first (a GPU; lavapipe only where it is the only device). On lavapipe (a CPU implementation)
// the Vulkan and CPU rows use small inputs, for information; CUDA rows run only with a CUDA GPU.
// Every result is checked against the CPU before timing; a wrong one marks the row as an error.
// The CUDA rows that need device code (resident vector add, the CUDA pipeline) are in vulkan.cu.
#include <benchmark/benchmark.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include "../tests/ops/test_ed25519_cases.hpp"
#include "gpu_fixture.hpp"
#include "hetex/hetex.hpp"
#include "hetex/parallel/pipeline.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/recording.hpp"
#include "vulkan_sizes.hpp"

namespace vk = hetex::vulkan;
using hetex::Result;
using hetex::Stream;
using hetex::ops::Digest;
using hetex_bench::need_gpu;
using hetex_bench::rt;
using hetex_bench::streams;
using namespace hetex_bench::vulkan_sizes;

namespace {

// ---- the Vulkan device --------------------------------------------------------------------

struct VulkanSetup {
  std::shared_ptr<vk::Device> device;
  std::string reason;
};

const VulkanSetup& setup() {
  static const VulkanSetup s = [] {
    VulkanSetup v;
    auto inst = vk::Instance::process();
    if (!inst) {
      v.reason = "no Vulkan: " + inst.error().describe();
      return v;
    }
    std::uint32_t index = 0;
    if (const char* e = std::getenv("HETEX_VULKAN_DEVICE"); e && *e) {
      index = static_cast<std::uint32_t>(std::strtoul(e, nullptr, 10));
    } else {
      const auto picked = vk::default_selection((*inst)->devices());
      if (picked.empty()) {
        v.reason = "no usable Vulkan device";
        return v;
      }
      index = picked.front();
    }
    auto d = vk::Device::open(*inst, index);
    if (!d) {
      v.reason = d.error().describe();
      return v;
    }
    v.device = *d;
    std::fprintf(stderr, "bench_vulkan: %s\n", v.device->info().describe().c_str());
    return v;
  }();
  return s;
}

vk::Device* need_vulkan(benchmark::State& st) {
  if (setup().device) return setup().device.get();
  st.SkipWithError(setup().reason.c_str());
  return nullptr;
}

// Small inputs when the Vulkan device is a CPU implementation (lavapipe): for the Vulkan and CPU
// rows only; CUDA rows always use the GPU sizes.
bool small() { return setup().device && setup().device->info().is_cpu(); }
const Sizes& sizes() { return small() ? kLavapipe : kGpu; }

// Host bytes into a new device buffer (through a staging buffer), ready for kernels.
Result<vk::Buffer> to_device(vk::Device& dev, const void* data, std::size_t bytes) {
  auto stage = HETEX_TRY(vk::Buffer::create(dev.shared_from_this(), bytes, vk::MemoryUse::upload));
  std::memcpy(stage.host().data(), data, bytes);
  auto buf = HETEX_TRY(vk::Buffer::create(dev.shared_from_this(), bytes, vk::MemoryUse::device));
  auto rec = HETEX_TRY(vk::Recording::begin(dev, vk::QueueRole::compute));
  rec.copy(stage, 0, buf, 0, bytes);
  rec.barrier(vk::Access::transfer, vk::Access::compute);
  HETEX_TRY_VOID(dev.wait(HETEX_TRY(rec.submit())));
  return buf;
}
std::vector<std::uint8_t> from_device(vk::Device& dev, const vk::Buffer& buf, std::size_t bytes) {
  auto back = vk::Buffer::create(dev.shared_from_this(), bytes, vk::MemoryUse::readback).value();
  auto rec = vk::Recording::begin(dev, vk::QueueRole::compute).value();
  rec.barrier(vk::Access::compute, vk::Access::transfer);
  rec.copy(buf, 0, back, 0, bytes);
  rec.barrier(vk::Access::transfer, vk::Access::host);
  (void)dev.wait(rec.submit().value());
  return std::vector<std::uint8_t>(back.host().begin(), back.host().end());
}

void wrong(benchmark::State& st, const char* what) { st.SkipWithError((std::string("wrong result: ") + what).c_str()); }

// ---- inputs, made once per size -------------------------------------------------------------

const std::vector<float>& floats(std::size_t n, std::uint32_t seed) {
  static std::map<std::pair<std::size_t, std::uint32_t>, std::vector<float>> cache;
  auto& v = cache[{n, seed}];
  if (v.empty()) {
    v.resize(n);
    tbb::parallel_for(std::size_t(0), n, std::size_t(1) << 16, [&](std::size_t b) {
      std::mt19937 rng(seed * 7919u + std::uint32_t(b));
      std::uniform_real_distribution<float> d(-1.0f, 1.0f);
      for (std::size_t i = b; i < std::min(n, b + (std::size_t(1) << 16)); ++i) {
        float x;
        do x = d(rng);
        while (x == 0.0f);
        v[i] = x;
      }
    });
  }
  return v;
}

struct Messages {
  hetex::ops::PackedMessages pm;
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint8_t> data;
};
const Messages& messages(std::size_t n, std::size_t len) {
  static std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Messages>> cache;
  auto& m = cache[{n, len}];
  if (!m) {
    m = std::make_unique<Messages>();
    m->data.resize(n * len);
    std::mt19937_64 rng(n * 31 + len);
    for (std::size_t i = 0; i + 8 <= m->data.size(); i += 8) {
      const std::uint64_t x = rng();
      std::memcpy(m->data.data() + i, &x, 8);
    }
    m->offsets.resize(n + 1);
    for (std::size_t i = 0; i <= n; ++i) m->offsets[i] = i * len;
  }
  return *m;
}
hetex::ops::MessageBatch view(const Messages& m) { return {m.data, m.offsets}; }

const std::vector<Digest>& sha_reference(std::size_t n, std::size_t len) {
  static std::map<std::pair<std::size_t, std::size_t>, std::vector<Digest>> cache;
  auto& d = cache[{n, len}];
  if (d.empty()) {
    d.resize(n);
    (void)hetex::ops::sha256_cpu(view(messages(n, len)), d);
  }
  return d;
}

const ed25519_test::RandomDataset& signatures(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<ed25519_test::RandomDataset>> cache;
  auto& d = cache[n];
  if (!d) {
    // Real signatures over 64-byte messages, a third corrupted.
    ed25519_test::sodium_ready();
    d = std::make_unique<ed25519_test::RandomDataset>();
    std::vector<hetex::ops::PublicKey> keys(n);
    std::vector<hetex::ops::Signature> sigs(n);
    std::vector<std::vector<std::uint8_t>> msgs(n, std::vector<std::uint8_t>(64));
    tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
      std::mt19937_64 rng(i * 977 + 5);
      for (auto& b : msgs[i]) b = std::uint8_t(rng());
      const auto kp = ed25519_test::keypair_from_seed(rng());
      keys[i] = kp.pk;
      sigs[i] = ed25519_test::sign(kp, msgs[i]);
      if (i % 3 == 0) sigs[i][rng() % 64] ^= 1;
    });
    for (std::size_t i = 0; i < n; ++i) d->data.add(keys[i], sigs[i], msgs[i], "", -1);
  }
  return *d;
}
const std::vector<hetex::ops::Verdict>& verdicts(std::size_t n) {
  static std::map<std::size_t, std::vector<hetex::ops::Verdict>> cache;
  auto& v = cache[n];
  if (v.empty()) {
    v.resize(n);
    (void)hetex::ops::ed25519_verify_cpu(signatures(n).data.batch(), v);
  }
  return v;
}

const hetex::image::Image& frame(int w, int h) {
  static std::map<std::pair<int, int>, hetex::image::Image> cache;
  auto& f = cache[{w, h}];
  if (f.pixels.empty()) {
    f = hetex::image::make_image({w, h, 4});
    std::mt19937 rng(11);
    for (auto& b : f.pixels) b = std::uint8_t(rng());
  }
  return f;
}
const hetex::image::Pipeline kPipeline{.sigma = 2.0, .edges = hetex::image::Edges::magnitude};
const std::vector<std::uint8_t>& image_reference(int w, int h) {
  static std::map<std::pair<int, int>, std::vector<std::uint8_t>> cache;
  auto& r = cache[{w, h}];
  if (r.empty()) {
    r.resize(std::size_t(w) * h);
    (void)hetex::image::run_cpu(kPipeline, hetex::image::view(frame(w, h)), r);
  }
  return r;
}

void rate(benchmark::State& st, double items, double bytes) {
  st.counters["items/s"] = benchmark::Counter(items * double(st.iterations()), benchmark::Counter::kIsRate);
  st.counters["GB/s"] = benchmark::Counter(bytes * 1e-9 * double(st.iterations()), benchmark::Counter::kIsRate);
}

// ---- vector add ------------------------------------------------------------------------------

void BM_VectorAdd_HostToHost_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const std::size_t n = sizes().vector;
  const auto &x = floats(n, 1), &y = floats(n, 2);
  std::vector<float> out(n), want(n);
  (void)hetex::ops::vector_cpu(hetex::ops::VectorKind::add, {x, y}, want);
  if (auto s = vk::vector(*dev, hetex::ops::VectorKind::add, {x, y}, out); !s)
    return st.SkipWithError(s.error().describe().c_str());
  if (std::memcmp(out.data(), want.data(), n * 4) != 0) return wrong(st, "vector add");
  for (auto _ : st) (void)vk::vector(*dev, hetex::ops::VectorKind::add, {x, y}, out);
  rate(st, double(n), 12.0 * double(n));
}

void BM_VectorAdd_HostToHost_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  static auto lane = hetex::GpuLane::create(rt().gpus().front()).value();
  const std::size_t n = kGpu.vector;
  const auto &x = floats(n, 1), &y = floats(n, 2);
  std::vector<float> out(n);
  if (auto s = hetex::ops::vector_gpu(*lane, hetex::ops::VectorKind::add, {x, y}, out); !s)
    return st.SkipWithError(s.error().describe().c_str());
  for (auto _ : st) (void)hetex::ops::vector_gpu(*lane, hetex::ops::VectorKind::add, {x, y}, out);
  rate(st, double(n), 12.0 * double(n));
}

void BM_VectorAdd_Cpu(benchmark::State& st) {
  const std::size_t n = sizes().vector;
  const auto &x = floats(n, 1), &y = floats(n, 2);
  std::vector<float> out(n);
  for (auto _ : st) (void)hetex::ops::vector_cpu(hetex::ops::VectorKind::add, {x, y}, out);
  rate(st, double(n), 12.0 * double(n));
}

void BM_VectorAdd_Resident_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const std::size_t n = sizes().vector;
  auto x = to_device(*dev, floats(n, 1).data(), n * 4);
  auto y = to_device(*dev, floats(n, 2).data(), n * 4);
  auto out = vk::Buffer::create(dev->shared_from_this(), n * 4, vk::MemoryUse::device);
  if (!x || !y || !out) return st.SkipWithError("device allocation failed");
  auto run = [&] { return dev->wait(vk::vector_resident(*dev, hetex::ops::VectorKind::add, *x, *y, *out, n).value()); };
  if (auto s = run(); !s) return st.SkipWithError(s.error().describe().c_str());
  std::vector<float> want(n);
  (void)hetex::ops::vector_cpu(hetex::ops::VectorKind::add, {floats(n, 1), floats(n, 2)}, want);
  if (std::memcmp(from_device(*dev, *out, n * 4).data(), want.data(), n * 4) != 0)
    return wrong(st, "resident vector add");
  for (auto _ : st) (void)run();
  rate(st, double(n), 12.0 * double(n));
}

// ---- SHA-256 ---------------------------------------------------------------------------------

void BM_Sha256_HostToHost_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const std::size_t n = sizes().sha_messages;
  const auto& m = messages(n, 64);
  std::vector<Digest> out(n);
  if (auto s = vk::sha256(*dev, view(m), out); !s) return st.SkipWithError(s.error().describe().c_str());
  if (out != sha_reference(n, 64)) return wrong(st, "SHA-256");
  for (auto _ : st) (void)vk::sha256(*dev, view(m), out);
  rate(st, double(n), 64.0 * double(n));
}

void BM_Sha256_HostToHost_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const std::size_t n = kGpu.sha_messages;
  const auto& m = messages(n, 64);
  std::vector<Digest> out(n);
  if (auto s = hetex::ops::sha256_gpu(streams(), view(m), out); !s)
    return st.SkipWithError(s.error().describe().c_str());
  for (auto _ : st) (void)hetex::ops::sha256_gpu(streams(), view(m), out);
  rate(st, double(n), 64.0 * double(n));
}

void BM_Sha256_Cpu(benchmark::State& st) {
  const std::size_t n = sizes().sha_messages;
  const auto& m = messages(n, 64);
  std::vector<Digest> out(n);
  for (auto _ : st) (void)hetex::ops::sha256_cpu(view(m), out);
  rate(st, double(n), 64.0 * double(n));
}

void BM_Sha256_Resident1KiB_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const std::size_t n = sizes().sha_resident;
  const auto& m = messages(n, 1024);
  auto data = to_device(*dev, m.data.data(), m.data.size());
  auto offs = to_device(*dev, m.offsets.data(), m.offsets.size() * 8);
  auto out = vk::Buffer::create(dev->shared_from_this(), n * 32, vk::MemoryUse::device);
  if (!data || !offs || !out) return st.SkipWithError("device allocation failed");
  auto run = [&] { return dev->wait(vk::sha256_resident(*dev, *data, m.data.size(), *offs, n, *out).value()); };
  if (auto s = run(); !s) return st.SkipWithError(s.error().describe().c_str());
  if (std::memcmp(from_device(*dev, *out, n * 32).data(), sha_reference(n, 1024).data(), n * 32) != 0)
    return wrong(st, "resident SHA-256");
  for (auto _ : st) (void)run();
  rate(st, double(n), 1024.0 * double(n));
}

void BM_Sha256_Resident1KiB_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const std::size_t n = kGpu.sha_resident;
  const auto& m = messages(n, 1024);
  Stream& s = streams().front();
  auto data = hetex::to_device(s, std::vector<std::uint8_t>(m.data)).get();
  auto offs = hetex::to_device(s, std::vector<std::uint64_t>(m.offsets)).get();
  auto out = hetex::DeviceBuffer<Digest>::allocate(s.device(), n);
  if (!data || !offs || !out) return st.SkipWithError("device upload or allocation failed");
  auto run = [&] { return hetex::ops::sha256_gpu_device(s, data->read(), offs->read(), out->write()).get(); };
  if (auto r = run(); !r) return st.SkipWithError(r.error().describe().c_str());
  for (auto _ : st) (void)run();
  rate(st, double(n), 1024.0 * double(n));
}

// ---- Ed25519 ---------------------------------------------------------------------------------

void BM_Ed25519_HostToHost_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const std::size_t n = sizes().signatures;
  const auto batch = signatures(n).data.batch();
  std::vector<hetex::ops::Verdict> out(n);
  const auto arithmetic = st.range(0) ? vk::Arithmetic::int64 : vk::Arithmetic::int32;
  if (auto s = vk::ed25519_verify(*dev, batch, out, arithmetic); !s)
    return st.SkipWithError(s.error().describe().c_str());
  if (out != verdicts(n)) return wrong(st, "Ed25519 verdicts");
  for (auto _ : st) (void)vk::ed25519_verify(*dev, batch, out, arithmetic);
  rate(st, double(n), 0);
}

void BM_Ed25519_HostToHost_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const std::size_t n = kGpu.signatures;
  const auto batch = signatures(n).data.batch();
  std::vector<hetex::ops::Verdict> out(n);
  if (auto s = hetex::ops::ed25519_verify_gpu(streams(), batch, out); !s)
    return st.SkipWithError(s.error().describe().c_str());
  for (auto _ : st) (void)hetex::ops::ed25519_verify_gpu(streams(), batch, out);
  rate(st, double(n), 0);
}

void BM_Ed25519_Cpu(benchmark::State& st) {
  const std::size_t n = sizes().signatures;
  const auto batch = signatures(n).data.batch();
  std::vector<hetex::ops::Verdict> out(n);
  for (auto _ : st) (void)hetex::ops::ed25519_verify_cpu(batch, out);
  rate(st, double(n), 0);
}

// ---- image -----------------------------------------------------------------------------------

void BM_Image_HostToHost_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const auto [w, h] = sizes().frame;
  std::vector<std::uint8_t> out(std::size_t(w) * h);
  auto run = [&] { return vk::image_run(*dev, kPipeline, hetex::image::view(frame(w, h)), out); };
  if (auto s = run(); !s) return st.SkipWithError(s.error().describe().c_str());
  if (out != image_reference(w, h)) return wrong(st, "image");
  for (auto _ : st) (void)run();
  rate(st, 1, double(w) * h * 5);
}

void BM_Image_HostToHost_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  static auto lane = hetex::GpuLane::create(rt().gpus().front()).value();
  const auto [w, h] = kGpu.frame;
  std::vector<std::uint8_t> out(std::size_t(w) * h);
  auto run = [&] { return hetex::image::run_gpu(*lane, kPipeline, hetex::image::view(frame(w, h)), out); };
  if (auto s = run(); !s) return st.SkipWithError(s.error().describe().c_str());
  for (auto _ : st) (void)run();
  rate(st, 1, double(w) * h * 5);
}

void BM_Image_Cpu(benchmark::State& st) {
  const auto [w, h] = sizes().frame;
  std::vector<std::uint8_t> out(std::size_t(w) * h);
  for (auto _ : st) (void)hetex::image::run_cpu(kPipeline, hetex::image::view(frame(w, h)), out);
  rate(st, 1, double(w) * h * 5);
}

void BM_Image_Resident_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const auto [w, h] = sizes().frame;
  const auto& f = frame(w, h);
  auto in = to_device(*dev, f.pixels.data(), f.pixels.size());
  auto out = vk::Buffer::create(dev->shared_from_this(), std::size_t(w) * h, vk::MemoryUse::device);
  if (!in || !out) return st.SkipWithError("device allocation failed");
  auto run = [&] { return dev->wait(vk::image_run_resident(*dev, kPipeline, f.shape, *in, *out).value()); };
  if (auto s = run(); !s) return st.SkipWithError(s.error().describe().c_str());
  if (from_device(*dev, *out, std::size_t(w) * h) != image_reference(w, h)) return wrong(st, "resident image");
  for (auto _ : st) (void)run();
  rate(st, 1, double(w) * h * 5);
}

void BM_Image_Resident_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  Stream& s = streams().front();
  const auto [w, h] = kGpu.frame;
  const auto& f = frame(w, h);
  auto in = hetex::image::make_device_image(s.device(), f.shape).value();
  auto out = hetex::image::make_device_image(s.device(), {w, h, 1}).value();
  (void)hetex::upload(s, std::span<const std::uint8_t>(f.pixels), in.pixels.write()).wait();
  auto run = [&] {
    auto r = hetex::image::run_gpu(s, kPipeline, in, out);
    return r ? s.synchronize() : r;
  };
  if (auto r = run(); !r) return st.SkipWithError(r.error().describe().c_str());
  for (auto _ : st) (void)run();
  rate(st, 1, double(w) * h * 5);
}

// ---- reduction -------------------------------------------------------------------------------

double square_below_reference(const std::vector<float>& v) {
  double ref = 0;
  for (float x : v)
    if (x * x < 0.25f) ref += double(x * x);
  return ref;
}

void BM_Reduce_HostToHost_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const auto& v = floats(sizes().reduce_host, 3);
  auto r = vk::reduce<float>(*dev, vk::square_below_quarter(), v);
  if (!r) return st.SkipWithError(r.error().describe().c_str());
  const double ref = square_below_reference(v);
  if (std::fabs(r->sum - ref) > 1e-4 * ref) return wrong(st, "reduction");
  for (auto _ : st) (void)vk::reduce<float>(*dev, vk::square_below_quarter(), v);
  rate(st, double(v.size()), 4.0 * double(v.size()));
}

void BM_Reduce_Resident_Vulkan(benchmark::State& st) {
  auto* dev = need_vulkan(st);
  if (!dev) return;
  const auto& v = floats(sizes().reduce_resident, 4);
  auto data = to_device(*dev, v.data(), v.size() * 4);
  if (!data) return st.SkipWithError(data.error().describe().c_str());
  auto r = vk::reduce_resident<float>(*dev, vk::square_below_quarter(), *data, v.size());
  if (!r) return st.SkipWithError(r.error().describe().c_str());
  const double ref = square_below_reference(v);
  if (std::fabs(r->sum - ref) > 1e-4 * ref) return wrong(st, "resident reduction");
  for (auto _ : st) (void)vk::reduce_resident<float>(*dev, vk::square_below_quarter(), *data, v.size());
  rate(st, double(v.size()), 4.0 * double(v.size()));
}

void BM_Reduce_Cpu(benchmark::State& st) {
  const auto& v = floats(sizes().reduce_host, 3);
  auto run = [&] {
    return hetex::pipeline(v).map([](float x) { return x * x; }).filter([](float y) { return y < 0.25f; }).sum();
  };
  for (auto _ : st) benchmark::DoNotOptimize(run());
  rate(st, double(v.size()), 4.0 * double(v.size()));
}

}  // namespace

BENCHMARK(BM_VectorAdd_HostToHost_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_VectorAdd_HostToHost_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_VectorAdd_Cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_VectorAdd_Resident_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sha256_HostToHost_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sha256_HostToHost_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sha256_Cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sha256_Resident1KiB_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sha256_Resident1KiB_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ed25519_HostToHost_Vulkan)->ArgName("int64")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ed25519_HostToHost_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ed25519_Cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Image_HostToHost_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Image_HostToHost_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Image_Cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Image_Resident_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Image_Resident_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Reduce_HostToHost_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Reduce_Cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Reduce_Resident_Vulkan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
