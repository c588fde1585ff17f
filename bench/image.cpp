// SPDX-License-Identifier: MIT
// The image pipeline on a 3840x2160 RGBA frame: gray -> Gaussian blur (sigma 2, 11 taps) ->
// Sobel magnitude, each figure beside OpenCV 4.6 in the same binary and run.
//   (a) GPU, host memory -> host memory (pageable std::vector; and pinned)   goal >= 5 Gpix/s
//   (b) GPU, device-resident; bytes/s counts 4 B read + 1 B written per pixel, to set against
//       the device's copy bandwidth                                           goal >= 10.2 Gpix/s
//   (c) CPU on all cores vs OpenCV with cv::setNumThreads(the same count), OpenCV in both orders:
//       gray first (what hetex computes, equal within 1 level) and blur first (the anchor's order)
//   (d) 200 frames streamed from pinned memory (H2D, kernel, D2H on three streams, three device
//       slots) vs the PCIe-bound frame rate from pinned H2D and D2H bandwidth measured here.
// GPU output is checked against the CPU's before timing.
#include <benchmark/benchmark.h>
#include <tbb/info.h>

#include <cstring>
#include <optional>
#include <random>

#include "hetex/hetex.hpp"
#include "hetex/ops/image.hpp"
#include "gpu_fixture.hpp"

#if defined(HETEX_HAVE_OPENCV)
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

using namespace hetex;
using namespace hetex::image;

namespace {

using hetex_bench::need_gpu;
using hetex_bench::rt;

constexpr int kW = 3840, kH = 2160;
const Pipeline kPipeline{.sigma = 2.0, .ksize = 11, .edges = Edges::magnitude};

GpuLane& lane() {
  static auto l = GpuLane::create(rt().gpus().front()).value();
  return *l;
}

// Smooth shapes plus noise: never a constant frame.
const Image& frame() {
  static const Image img = [] {
    Image f = make_image({kW, kH, 4});
    std::mt19937 rng(42);
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x)
        for (int c = 0; c < 4; ++c)
          f.pixels[(std::size_t(y) * kW + x) * 4 + c] =
              std::uint8_t(((x * (c + 1)) / 7 + (y / 13) * 31 + ((x / 97 + y / 61) % 2) * 90 + (rng() & 31)) & 255);
    return f;
  }();
  return img;
}
const std::vector<std::uint8_t>& cpu_result() {
  static const auto r = run_cpu(kPipeline, view(frame())).value().pixels;
  return r;
}
bool check(benchmark::State& st, const std::vector<std::uint8_t>& out) {
  if (out == cpu_result()) return true;
  st.SkipWithError("GPU result differs from the CPU's");
  return false;
}
void rate(benchmark::State& st, double frames = 1) {
  st.counters["pix/s"] = benchmark::Counter(double(st.iterations()) * kW * kH * frames, benchmark::Counter::kIsRate);
}

// Host memory in and out; range(0) / range(1): input / output page-locked (PinnedBuffer) rather
// than pageable (std::vector), so the four rows show what each side's host copies cost.
void BM_Gpu_HostToHost(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const bool in_pinned = st.range(0) != 0, out_pinned = st.range(1) != 0;
  std::optional<PinnedBuffer<std::uint8_t>> pin_in, pin_out;
  std::vector<std::uint8_t> pageable_out;
  ImageView v = view(frame());
  if (in_pinned) {
    pin_in = PinnedBuffer<std::uint8_t>::allocate(frame().pixels.size()).value();
    std::memcpy(pin_in->span().data(), frame().pixels.data(), pin_in->size());
    v.data = pin_in->span().data();
  }
  std::span<std::uint8_t> out;
  if (out_pinned) {
    pin_out = PinnedBuffer<std::uint8_t>::allocate(std::size_t(kW) * kH).value();
    out = pin_out->span();
  } else {
    pageable_out.resize(std::size_t(kW) * kH);
    out = pageable_out;
  }
  if (auto s = run_gpu(lane(), kPipeline, v, out); !s) return st.SkipWithError(s.error().describe().c_str());
  if (!check(st, std::vector<std::uint8_t>(out.begin(), out.end()))) return;
  for (auto _ : st) (void)run_gpu(lane(), kPipeline, v, out);
  rate(st);
}

void BM_Gpu_DeviceResident(benchmark::State& st) {
  if (!need_gpu(st)) return;
  Stream& s = lane().stream(0);
  auto in = make_device_image(lane().device(), frame().shape).value();
  auto out = make_device_image(lane().device(), {kW, kH, 1}).value();
  (void)upload(s, std::span<const std::uint8_t>(frame().pixels), in.pixels.write()).wait();
  (void)run_gpu(s, kPipeline, in, out);
  if (!check(st, download(s, out.pixels.read()).get().value())) return;
  constexpr int kBatch = 20;  // launches per synchronisation
  for (auto _ : st) {
    for (int i = 0; i < kBatch; ++i) (void)run_gpu(s, kPipeline, in, out);
    (void)s.synchronize();
  }
  rate(st, kBatch);
  st.counters["bytes/s"] =
      benchmark::Counter(double(st.iterations()) * kBatch * kW * kH * 5, benchmark::Counter::kIsRate);
}

void BM_Cpu_Hetex(benchmark::State& st) {
  std::vector<std::uint8_t> out(std::size_t(kW) * kH);
  for (auto _ : st) (void)run_cpu(kPipeline, view(frame()), out);
  rate(st);
  st.counters["threads"] = tbb::info::default_concurrency();
}

#if defined(HETEX_HAVE_OPENCV)
void opencv_sobel_magnitude(const cv::Mat& blurred_gray, cv::Mat& out) {
  cv::Mat dx, dy, fx, fy, mag;
  cv::Sobel(blurred_gray, dx, CV_16S, 1, 0, 3);
  cv::Sobel(blurred_gray, dy, CV_16S, 0, 1, 3);
  dx.convertTo(fx, CV_32F);
  dy.convertTo(fy, CV_32F);
  cv::magnitude(fx, fy, mag);
  mag.convertTo(out, CV_8U);
}
void BM_Cpu_OpenCV(benchmark::State& st) {
  const bool gray_first = st.range(0) == 1;
  cv::setNumThreads(tbb::info::default_concurrency());
  cv::Mat in(kH, kW, CV_8UC4, const_cast<std::uint8_t*>(frame().pixels.data()));
  cv::Mat gray, blurred, out;
  for (auto _ : st) {
    if (gray_first) {
      cv::cvtColor(in, gray, cv::COLOR_RGBA2GRAY);
      cv::GaussianBlur(gray, blurred, cv::Size(11, 11), 2.0, 2.0);
    } else {
      cv::GaussianBlur(in, blurred, cv::Size(11, 11), 2.0, 2.0);
      cv::cvtColor(blurred, blurred, cv::COLOR_RGBA2GRAY);
    }
    opencv_sobel_magnitude(blurred, out);
  }
  rate(st);
  st.counters["threads"] = cv::getNumThreads();
  if (gray_first) {
    int worst = 0;
    for (std::size_t i = 0; i < cpu_result().size(); ++i)
      worst = std::max(worst, std::abs(int(out.data[i]) - int(cpu_result()[i])));
    st.counters["max_diff_vs_hetex"] = worst;
  }
}
#endif

// Pinned copy bandwidth for the PCIe bound (one frame's input up, output down).
void BM_Pinned_Copy(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const bool h2d = st.range(0) == 1;
  const std::size_t bytes = h2d ? frame().pixels.size() : std::size_t(kW) * kH;
  Stream& s = lane().stream(0);
  auto host = PinnedBuffer<std::uint8_t>::allocate(bytes).value();
  auto dev = DeviceBuffer<std::uint8_t>::allocate(lane().device(), bytes).value();
  for (auto _ : st) {
    for (int i = 0; i < 10; ++i) (void)(h2d ? s.copy(host.read(), dev.write()) : s.copy(dev.read(), host.write()));
    (void)s.synchronize();
  }
  st.counters["bytes/s"] = benchmark::Counter(double(st.iterations()) * 10 * bytes, benchmark::Counter::kIsRate);
  st.counters["frames/s bound"] = benchmark::Counter(double(st.iterations()) * 10, benchmark::Counter::kIsRate);
}

// Diagnostics for the host->host path: one frame's input uploaded through hetex's staging
// (range(0) 0: from pageable memory, 1: from pinned), and the host copy of it into pinned memory.
void BM_Frame_Upload(benchmark::State& st) {
  if (!need_gpu(st)) return;
  Stream& s = lane().stream(0);
  std::optional<PinnedBuffer<std::uint8_t>> pin;
  std::span<const std::uint8_t> src = frame().pixels;
  if (st.range(0)) {
    pin = PinnedBuffer<std::uint8_t>::allocate(src.size()).value();
    std::memcpy(pin->span().data(), src.data(), src.size());
    src = pin->span();
  }
  auto dev = DeviceBuffer<std::uint8_t>::allocate(lane().device(), src.size()).value();
  for (auto _ : st)
    if (auto r = upload(s, src, dev.write()).wait(); !r) return st.SkipWithError(r.error().describe().c_str());
  st.SetBytesProcessed(std::int64_t(st.iterations()) * std::int64_t(src.size()));
}
void BM_Frame_StageCopy(benchmark::State& st) {
  auto dst = PinnedBuffer<std::uint8_t>::allocate(frame().pixels.size()).value();
  for (auto _ : st) hetex::detail::parallel_copy(dst.span().data(), frame().pixels.data(), frame().pixels.size());
  st.SetBytesProcessed(std::int64_t(st.iterations()) * std::int64_t(frame().pixels.size()));
}

// 200 frames from pinned memory, each through its own upload, kernel and download, three frames
// in flight on three streams (the streaming pipeline's GPU half, without file decoding).
void BM_Gpu_Stream200(benchmark::State& st) {
  if (!need_gpu(st)) return;
  constexpr int kFrames = 200, kSources = 4;
  const Device& gpu = lane().device();
  std::vector<PinnedBuffer<std::uint8_t>> src, dst;
  for (int i = 0; i < kSources; ++i) {
    src.push_back(PinnedBuffer<std::uint8_t>::allocate(frame().pixels.size()).value());
    std::memcpy(src.back().span().data(), frame().pixels.data(), frame().pixels.size());
    dst.push_back(PinnedBuffer<std::uint8_t>::allocate(std::size_t(kW) * kH).value());
  }
  struct Slot {
    DeviceImage in, out;
    Event free;
  };
  std::vector<Slot> slots;
  for (int i = 0; i < 3; ++i)
    slots.push_back({make_device_image(gpu, frame().shape).value(), make_device_image(gpu, {kW, kH, 1}).value(), {}});
  std::vector<Stream> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(Stream::create(gpu).value());
  auto run = [&] {
    for (int f = 0; f < kFrames; ++f) {
      Slot& slot = slots[f % 3];
      if (slot.free.valid()) (void)slot.free.wait();
      (void)streams[0].copy(src[f % kSources].read(), slot.in.pixels.write());
      (void)streams[1].wait(streams[0].record().value());
      (void)run_gpu(streams[1], kPipeline, slot.in, slot.out);
      (void)streams[2].wait(streams[1].record().value());
      (void)streams[2].copy(slot.out.pixels.read(), dst[f % kSources].write());
      slot.free = streams[2].record().value();
    }
    (void)streams[2].synchronize();
  };
  run();
  if (!check(st, std::vector<std::uint8_t>(dst[0].span().begin(), dst[0].span().end()))) return;
  for (auto _ : st) run();
  st.counters["frames/s"] = benchmark::Counter(double(st.iterations()) * kFrames, benchmark::Counter::kIsRate);
  rate(st, kFrames);
}

}  // namespace

BENCHMARK(BM_Gpu_HostToHost)
    ->ArgNames({"in_pinned", "out_pinned"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpu_DeviceResident)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Cpu_Hetex)->UseRealTime()->Unit(benchmark::kMillisecond);
#if defined(HETEX_HAVE_OPENCV)
BENCHMARK(BM_Cpu_OpenCV)->ArgName("gray_first")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
BENCHMARK(BM_Pinned_Copy)->ArgName("h2d")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Frame_Upload)->ArgName("pinned")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Frame_StageCopy)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpu_Stream200)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
