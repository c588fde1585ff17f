// SPDX-License-Identifier: MIT
// hetex image IN OUT ... and hetex image --batch IN_DIR OUT_DIR ...: the (gray) -> blur -> Sobel
// pipeline on image files, streamed through the GPU (or the CPU) with overlapped transfers.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "commands.hpp"
#include "dist_cli.hpp"
#include "hetex/ops/image_io.hpp"
#include "hetex/ops/image_stream.hpp"
#include "image_done.hpp"
#include "input.hpp"
#include "interrupt.hpp"

namespace hetex::cli {
namespace {

struct ImageArgs {
  std::vector<std::string> paths;
  bool batch = false;
  double sigma = 0;
  int ksize = 0;
  std::string edges;  // "" unless --edges; "magnitude" without a threshold
  bool gray = false;
  int quality = 95;
  bool quiet = false;
  bool force = false;
};

// Whether `out` is `in` itself (the same file or directory by another name): writing would
// replace the user's input.
bool same_place(const std::string& in, const std::string& out) {
  std::error_code ec;
  return std::filesystem::equivalent(in, out, ec) && !ec;
}

Result<image::Pipeline> pipeline_of(const ImageArgs& a, const CLI::Option* edges) {
  image::Pipeline p;
  p.gray = a.gray;
  p.sigma = a.sigma;
  p.ksize = a.ksize;
  if (edges->count() > 0) {
    if (a.edges.empty() || a.edges == "magnitude") {
      p.edges = image::Edges::magnitude;
    } else {
      char* end = nullptr;
      p.threshold = std::strtod(a.edges.c_str(), &end);
      if (end == a.edges.c_str() || *end != '\0')
        return Error(Errc::invalid_argument, "--edges takes a threshold in (0, 8], not '" + a.edges + "'");
      p.edges = image::Edges::binary;
    }
  }
  if (!p.gray && p.edges == image::Edges::none && !image::blurs(p))
    return Error(Errc::invalid_argument, "nothing to do: give --blur SIGMA, --edges and/or --gray");
  HETEX_TRY_VOID(image::validate(p));
  return p;
}

}  // namespace

void add_image(CLI::App& app, Common& common, int& status) {
  auto* cmd = app.add_subcommand("image", "Filter images: grayscale, Gaussian blur, Sobel edges (results as OpenCV's)");
  auto a = std::make_shared<ImageArgs>();
  cmd->add_option("paths", a->paths, "IN OUT (files), or IN_DIR OUT_DIR with --batch")->required()->expected(2);
  cmd->add_flag("--batch", a->batch, "Process every image file in IN_DIR into OUT_DIR (same names)");
  cmd->add_option("--blur", a->sigma, "Gaussian blur sigma (kernel size as OpenCV picks it for 8-bit images)");
  cmd->add_option("--ksize", a->ksize, "Gaussian kernel size (odd), instead of the one sigma implies");
  auto* edges = cmd->add_option("--edges", a->edges,
                                "Sobel edges after the blur: the gradient magnitude, or with THRESHOLD (a fraction of "
                                "full scale, e.g. 0.1) a black and white edge map")
                    ->expected(0, 1);
  cmd->add_flag("--gray", a->gray, "Convert to gray (edges always do)");
  cmd->add_option("--quality", a->quality, "JPEG quality, 1-100")->capture_default_str();
  cmd->add_option("--device", common.device, "cpu, gpu or auto (the GPU when there is one)")->capture_default_str();
  cmd->add_flag("--quiet", a->quiet, "No progress bar");
  cmd->add_flag("--force", a->force, "With --batch: redo images whose output already exists");
  auto dist = std::make_shared<DistArgs>();
  add_dist_options(*cmd, *dist, false);
  cmd->footer(
      "Formats by extension: .png, .jpg/.jpeg, .ppm/.pgm. Outputs are written whole or not at all.\n"
      "With --batch, an output that is complete, newer than its input and made with the same options is skipped\n"
      "(--force redoes it), "
      "so after Ctrl-C (exit 130) the same command finishes the rest. Exit status 1 if an image failed\n"
      "(each named on stderr; the others are still written).\nExamples:\n"
      "  hetex image photo.jpg edges.png --blur 2 --edges 0.1\n"
      "  hetex image --batch frames/ out/ --blur 1.5 --edges --device gpu");
  cmd->callback([a, edges, dist, &common, &status] {
    auto p = pipeline_of(*a, edges);
    if (!p) {
      std::fprintf(stderr, "hetex image: %s\n", p.error().message().c_str());
      status = 2;
      return;
    }
    if (use_dist(*dist)) {
      status = dist_image({a->paths[0], a->paths[1], a->batch, *p, a->quality, a->batch && !a->quiet}, common, *dist);
      return;
    }
    if (same_place(a->paths[0], a->paths[1])) {
      std::fprintf(stderr, "hetex image: %s is the input; give another output %s\n", a->paths[1].c_str(),
                   a->batch ? "directory" : "file");
      status = 2;
      return;
    }
    std::vector<image::FileJob> jobs;
    std::size_t skipped = 0;
    std::optional<DoneRecord> record;
    if (a->batch) {
      record.emplace(a->paths[1], *p, a->quality);
      auto listed = image::jobs_for_directory(a->paths[0], a->paths[1]);
      if (!listed) {
        std::fprintf(stderr, "hetex image: %s\n", listed.error().message().c_str());
        status = 2;
        return;
      }
      for (auto& job : *listed) {
        if (!a->force && record->done(job))
          ++skipped;
        else
          jobs.push_back(std::move(job));
      }
    } else {
      if (auto f = image::format_for(a->paths[1]); !f) {
        std::fprintf(stderr, "hetex image: %s\n", f.error().message().c_str());
        status = 2;
        return;
      }
      jobs.push_back({a->paths[0], a->paths[1]});
    }
    image::StreamOptions options{
        .pipeline = *p, .device = common.device, .progress = a->batch && !a->quiet, .jpeg_quality = a->quality};
    options.on_done = [&record](std::size_t, const image::FileJob& job, const Status& s) {
      if (!s)
        report_error("image", s.error());
      else if (record)
        record->add(job);
    };
    options.stop = [] { return interrupted(); };
    auto report = image::process_files(jobs, options);
    if (!report) {
      std::fprintf(stderr, "hetex image: %s\n", report.error().describe().c_str());
      status = 2;
      return;
    }
    if (record) {
      if (auto st = record->compact(); !st) report_error("image", st.error());
    }
    if (a->batch) {
      std::string done = std::to_string(report->succeeded) + " written, " + std::to_string(report->failed) + " failed";
      if (skipped) done += ", " + std::to_string(skipped) + " already done (--force redoes them)";
      std::fprintf(stderr, "hetex image: %zu images on %s in %.2f s: %s\n", jobs.size() + skipped,
                   report->device.c_str(), report->seconds, done.c_str());
    }
    status = report->failed ? 1 : 0;
    if (interrupted()) {
      const std::size_t left = jobs.size() - report->succeeded - report->failed;
      report_error("image", "interrupted; " + std::to_string(left) + " image(s) not started" +
                                (a->batch ? ": run the same command again to do them" : ""));
      status = interrupted_status();
    }
  });
}

}  // namespace hetex::cli
