// SPDX-License-Identifier: MIT
// The image workload of `hetex bench`: RGBA frames → gray → Gaussian blur (σ = 2, 11 taps) →
// Sobel magnitude, host memory to host memory, at sizes from a thumbnail to 4K. OpenCV, the
// comparator, is measured where the build found it (it is never a dependency of the library).

#include <random>
#include <tuple>

#if defined(HETEX_HAVE_OPENCV)
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "bench.hpp"
#include "hetex/exec/gpu_lane.hpp"
#include "hetex/ops/image.hpp"
#include "hetex/ops/image_scheduled.hpp"

namespace hetex::cli::bench {

Plan image_plan(Devices& d, const Settings& s) {
  Plan p;
  p.meta = {.id = "image",
            .title = "Gray → blur σ=2 (11 taps) → Sobel, RGBA frames",
            .unit = "pixels",
            .where = "host memory to host memory"};
  const std::vector<std::pair<int, int>> frames =
      s.full ? std::vector<std::pair<int, int>>{{256, 144},   {640, 360},   {1280, 720},
                                                {1920, 1080}, {3840, 2160}, {7680, 4320}}
             : std::vector<std::pair<int, int>>{{256, 144}, {640, 360}, {1280, 720}, {1920, 1080}, {3840, 2160}};
  p.meta.table_size = 3840u * 2160u;
#if !defined(HETEX_HAVE_OPENCV)
  p.meta.notes.push_back("OpenCV was not found when hetex was built: bench_image measures it where it is installed");
#endif
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
  auto index = [sizes = p.sizes](std::size_t n) {
    return std::size_t(std::find(sizes.begin(), sizes.end(), n) - sizes.begin());
  };
  auto poison = [data, index](std::size_t n) {
    std::fill(data->out[index(n)].begin(), data->out[index(n)].end(), 0x5a);
  };
  auto check = [data, index](std::size_t n) -> Status {
    if (data->out[index(n)] != data->expected[index(n)])
      return Error(Errc::internal, "image: output differs from the CPU reference at " + std::to_string(n) + " pixels");
    return {};
  };
  auto add = [&](std::string id, std::string label, metrics::SeriesKind kind, std::function<Status(std::size_t)> run) {
    p.columns.push_back({std::move(id), std::move(label), kind, std::move(run), poison, check});
  };
  add("cpu_1", "hetex CPU, 1 thread", metrics::SeriesKind::cpu,
      [=](std::size_t n) { return image::run_cpu_serial(pipe, image::view(data->in[index(n)]), data->out[index(n)]); });
  const auto cores = std::to_string(d.runtime.cpu().cpu_info()->logical_cores);
  add("cpu_all", "hetex CPU, " + cores + " threads", metrics::SeriesKind::cpu,
      [=](std::size_t n) { return image::run_cpu(pipe, image::view(data->in[index(n)]), data->out[index(n)]); });
#if defined(HETEX_HAVE_OPENCV)
  // The same steps in OpenCV 4 on the same cores, gray first (its output is then bit-identical).
  const int threads = static_cast<int>(d.runtime.cpu().cpu_info()->logical_cores);
  // The intermediates persist across runs, as in a program that filters frame after frame.
  struct CvScratch {
    cv::Mat gray, blurred, dx, dy, fx, fy, mag;
  };
  auto cv_scratch = std::make_shared<CvScratch>();
  add("opencv", "OpenCV, " + cores + " threads", metrics::SeriesKind::comparator, [=](std::size_t n) -> Status {
    try {
      cv::setNumThreads(threads);
      const auto& img = data->in[index(n)];
      cv::Mat in(img.shape.height, img.shape.width, CV_8UC4, const_cast<std::uint8_t*>(img.pixels.data()));
      auto& [gray, blurred, dx, dy, fx, fy, mag] = *cv_scratch;
      cv::Mat out(img.shape.height, img.shape.width, CV_8U, data->out[index(n)].data());
      cv::cvtColor(in, gray, cv::COLOR_RGBA2GRAY);
      cv::GaussianBlur(gray, blurred, cv::Size(11, 11), 2.0, 2.0);
      cv::Sobel(blurred, dx, CV_16S, 1, 0, 3);
      cv::Sobel(blurred, dy, CV_16S, 0, 1, 3);
      dx.convertTo(fx, CV_32F);
      dy.convertTo(fy, CV_32F);
      cv::magnitude(fx, fy, mag);
      mag.convertTo(out, CV_8U);  // into the caller's buffer: `out` already has its size and type
      return {};
    } catch (const cv::Exception& e) {
      return Error(Errc::internal, std::string("OpenCV: ") + e.what());
    }
  });
#endif
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
  if (d.gpus.empty()) return p;
  p.scheduled = [=](Scheduler& sched, std::size_t n) {
    return image::run(sched, pipe, image::view(data->in[index(n)]), data->out[index(n)]);
  };
  // The frame's rows as the scheduler's items: adaptive sends each frame to one device, split
  // shares its rows between the CPU and the GPUs.
  for (auto [id, label, sched] : {std::tuple{"adaptive", "hetex adaptive (CPU or GPU)", d.adaptive.get()},
                                  std::tuple{"split", "hetex split (CPU + GPUs)", d.split.get()}})
    p.columns.push_back(
        {id, label, metrics::SeriesKind::hybrid,
         [=](std::size_t n) { return image::run(*sched, pipe, image::view(data->in[index(n)]), data->out[index(n)]); },
         poison, check, true});
  return p;
}

}  // namespace hetex::cli::bench
