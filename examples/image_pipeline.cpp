// SPDX-License-Identifier: MIT
// The design notes' async workflow with images: a producer decodes frames into a bounded channel
// (backpressure: it blocks while the channel is full), a worker hands batches of frames to the
// scheduler (the CPU or a GPU, whichever it finds faster), and a consumer writes the results.
// Runs anywhere: without a GPU the scheduler uses the CPU. Writes into a temporary directory.
#include <cstdio>
#include <filesystem>
#include <thread>

#include "hetex/async/channel.hpp"
#include "hetex/hetex.hpp"
#include "hetex/ops/image.hpp"
#include "hetex/ops/image_io.hpp"

using namespace hetex;
using namespace hetex::image;

int main() {
  const auto dir = std::filesystem::temp_directory_path() / "hetex_image_pipeline_example";
  std::filesystem::create_directories(dir);
  // An input to read: a gradient with a bright box.
  Image seed = make_image({320, 200, 3});
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 320; ++x)
      for (int c = 0; c < 3; ++c)
        seed.pixels[(y * 320 + x) * 3 + c] =
            std::uint8_t(x > 100 && x < 220 && y > 60 && y < 140 ? 240 : (x + c * 50) % 200);
  const auto input = (dir / "input.png").string();
  if (auto s = save(input, view(seed)); !s) return std::fprintf(stderr, "%s\n", s.error().describe().c_str()), 1;

  const Pipeline pipeline{.sigma = 1.5, .edges = Edges::binary, .threshold = 0.1};
  Operation<SpanBatch<ImageView>, Image> edges(
      "image_edges",
      [&](const SpanBatch<ImageView>& in, std::span<Image> out) -> Status {
        for (std::size_t i = 0; i < in.size(); ++i) {
          out[i] = make_image(output_shape(pipeline, in[i].shape));
          HETEX_TRY_VOID(run_cpu_serial(pipeline, in[i], out[i].pixels));
        }
        return {};
      },
      OperationOptions{.cpu_grain = 1, .gpu_min_chunk = 4});
  edges.with_gpu([&](GpuLane& lane, const SpanBatch<ImageView>& in, std::span<Image> out) -> Status {
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = make_image(output_shape(pipeline, in[i].shape));
      HETEX_TRY_VOID(run_gpu(lane, pipeline, in[i], out[i].pixels));
    }
    return {};
  });

  auto rt = Runtime::create().value();
  auto sched = Scheduler::create(rt, {.calibration_file = std::filesystem::path()}).value();
  Channel<Image> frames(4), results(4);
  constexpr int kFrames = 24, kBatch = 6;

  std::thread producer([&] {
    for (int i = 0; i < kFrames; ++i) {
      auto img = load(input);
      if (!img || !frames.send(std::move(*img))) break;
    }
    frames.close();
  });
  std::thread worker([&] {
    std::vector<Image> batch;
    auto flush = [&] {
      std::vector<ImageView> views;
      for (const auto& b : batch) views.push_back(view(b));
      std::vector<Image> out(batch.size());
      auto report = sched->run(edges, SpanBatch<ImageView>{views}, std::span(out));
      if (report && report->all_ok())
        for (auto& o : out) (void)results.send(std::move(o));
      batch.clear();
    };
    while (auto f = frames.receive()) {
      batch.push_back(std::move(*f));
      if (batch.size() == kBatch) flush();
    }
    if (!batch.empty()) flush();
    results.close();
  });
  int written = 0;
  while (auto r = results.receive())
    if (save((dir / ("edges" + std::to_string(written++) + ".png")).string(), view(*r))) {}
  producer.join();
  worker.join();
  std::printf("%d of %d frames filtered into %s\n", written, kFrames, dir.c_str());
  std::filesystem::remove_all(dir);
  return written == kFrames ? 0 : 1;
}
