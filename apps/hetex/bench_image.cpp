// The image workload of `hetex bench`: RGBA frames → gray → Gaussian blur (σ = 2, 11 taps) →
// Sobel magnitude, host memory to host memory, at sizes from a thumbnail to 4K. OpenCV, the
// comparator, is a benchmark-only dependency: bench_image measures it beside this same pipeline.

#include <random>

#include "bench.hpp"
#include "hetex/exec/gpu_lane.hpp"
#include "hetex/ops/image.hpp"

namespace hetex::cli::bench {

Plan image_plan(Devices& d, const Settings& s) {
  Plan p;
  p.meta = {.id = "image", .title = "Gray → blur σ=2 (11 taps) → Sobel, RGBA frames", .unit = "pixels",
            .where = "host memory to host memory"};
  const std::vector<std::pair<int, int>> frames =
      s.full ? std::vector<std::pair<int, int>>{{256, 144}, {640, 360}, {1280, 720}, {1920, 1080}, {3840, 2160}, {7680, 4320}}
             : std::vector<std::pair<int, int>>{{256, 144}, {640, 360}, {1280, 720}, {1920, 1080}, {3840, 2160}};
  p.meta.table_size = 3840u * 2160u;
  p.meta.notes.push_back("OpenCV's figures on the same frame come from bench_image (OpenCV is not a runtime dependency)");
  const image::Pipeline pipe{.gray = true, .sigma = 2.0, .ksize = 11, .edges = image::Edges::magnitude};
  struct Data {
    std::vector<image::Image> in;
    std::vector<std::vector<std::uint8_t>> out, expected;
  };
  auto data = std::make_shared<Data>();
  std::mt19937 rng(42);
  for (auto [w, h] : frames) {
    if (!p.sizes.empty() && std::size_t(w) * h > s.max_size) break;
    image::Image img = image::make_image({w, h, 4});
    // Smooth structure plus noise, so the edges are neither empty nor everywhere.
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 4; ++c)
          img.pixels[(std::size_t(y) * w + x) * 4 + c] =
              static_cast<std::uint8_t>(((x / 37 + y / 23 + c) % 2) * 160 + rng() % 64);
    auto ref = image::run_cpu(pipe, image::view(img));
    if (!ref) {
      p.meta.notes.push_back("image pipeline failed: " + ref.error().describe());
      p.sizes.clear();
      return p;
    }
    data->expected.push_back(std::move(ref->pixels));
    data->out.emplace_back(data->expected.back().size());
    data->in.push_back(std::move(img));
    p.sizes.push_back(std::size_t(w) * h);
  }
  auto index = [sizes = p.sizes](std::size_t n) { return std::size_t(std::find(sizes.begin(), sizes.end(), n) - sizes.begin()); };
  auto poison = [data, index](std::size_t n) { std::fill(data->out[index(n)].begin(), data->out[index(n)].end(), 0x5a); };
  auto check = [data, index](std::size_t n) -> Status {
    if (data->out[index(n)] != data->expected[index(n)])
      return Error(Errc::internal, "image: output differs from the CPU reference at " + std::to_string(n) + " pixels");
    return {};
  };
  auto add = [&](std::string id, std::string label, metrics::SeriesKind kind, std::function<Status(std::size_t)> run) {
    p.columns.push_back({std::move(id), std::move(label), kind, std::move(run), poison, check});
  };
  add("cpu_1", "hetex CPU, 1 thread", metrics::SeriesKind::cpu, [=](std::size_t n) {
    return image::run_cpu_serial(pipe, image::view(data->in[index(n)]), data->out[index(n)]);
  });
  const auto cores = std::to_string(d.runtime.cpu().cpu_info()->logical_cores);
  add("cpu_all", "hetex CPU, " + cores + " threads", metrics::SeriesKind::cpu, [=](std::size_t n) {
    return image::run_cpu(pipe, image::view(data->in[index(n)]), data->out[index(n)]);
  });
  if (!s.gpus) return p;
  const auto gpus = d.runtime.gpus();
  for (std::size_t g = 0; g < gpus.size() && g < d.gpu_labels.size(); ++g) {
    auto lane = GpuLane::create(gpus[g]);
    if (!lane) {
      p.meta.notes.push_back(d.gpu_labels[g] + ": " + lane.error().describe());
      continue;
    }
    std::shared_ptr<GpuLane> shared_lane = std::move(*lane);
    add("gpu" + std::to_string(g), "hetex " + d.gpu_labels[g], metrics::SeriesKind::gpu, [=](std::size_t n) {
      return image::run_gpu(*shared_lane, pipe, image::view(data->in[index(n)]), data->out[index(n)]);
    });
  }
  return p;
}

}  // namespace hetex::cli::bench
