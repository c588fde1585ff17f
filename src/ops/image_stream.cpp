// SPDX-License-Identifier: MIT
#include "hetex/ops/image_stream.hpp"

#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "async/staging.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/memory/pool.hpp"
#include "hetex/ops/image_io.hpp"
#include "ops/image_rows.hpp"

namespace hetex::image {
namespace {

struct Item {
  std::size_t index = 0;
  Status status;
  Image decoded;  // CPU path, and the source of a GPU fallback
  Shape out_shape;
  PinnedBuffer<std::uint8_t> staged_in, staged_out;  // GPU path
  Event done;                                        // the GPU download of staged_out
  bool on_gpu = false;
  std::vector<std::uint8_t> result;  // CPU path
};

// The GPU stages on the staging pipeline: an image's upload on one stream, its kernels on a
// second, its download on a third; three slots of device memory, reused once the slot's last
// download finished, growing to the largest image seen. The host side of an image is its own
// pinned staging (filled by the decode stage), DMA'd directly.
class GpuStages final : public hetex::detail::StagedWork {
 public:
  static Result<std::unique_ptr<GpuStages>> create(const Device& gpu, const Pipeline& p) {
    std::unique_ptr<GpuStages> g(new GpuStages(gpu, p));
    for (int i = 0; i < 3; ++i) g->streams_.push_back(HETEX_TRY(Stream::create(gpu)));
    hetex::detail::StagingOptions o;
    o.slots = 3;
    o.roles = hetex::detail::StreamRoles::by_stage;
    g->pipeline_.emplace(HETEX_TRY(hetex::detail::StagingPipeline::create(g->streams_, *g, o)));
    return g;
  }
  // Enqueues upload -> pipeline -> download of `item` and returns at once (item.done opens when
  // its result is in staged_out). On failure the streams are drained, so the item's staging
  // memory is free to go.
  Status submit(Item& item) {
    item_ = &item;
    const hetex::detail::SlotBytes need{0, 0, item.decoded.shape.bytes(), item.out_shape.bytes()};
    item.done = HETEX_TRY(pipeline_->submit(item.index, item.index + 1, need));
    return {};
  }
  Status finish() { return pipeline_->finish(); }
  const Device& device() const { return gpu_; }

  Status pack(hetex::detail::Chunk& c, const hetex::detail::SlotMemory& m) override {
    plan_ = HETEX_TRY(detail::make_plan(p_, item_->decoded.shape));
    c.upload(m.device_in.data(), item_->staged_in.span().data(), item_->decoded.shape.bytes(), true);
    c.download(item_->staged_out.span().data(), m.device_out.data(), item_->out_shape.bytes(), true);
    return {};
  }
  Status launch(Stream& s, const hetex::detail::Chunk&, const hetex::detail::SlotMemory& m) override {
    return detail::enqueue_gpu(s, plan_, m.device_in.data(), m.device_out.data());
  }

 private:
  GpuStages(Device gpu, const Pipeline& p) : gpu_(std::move(gpu)), p_(p) {}
  Device gpu_;
  const Pipeline& p_;
  std::vector<Stream> streams_;
  std::optional<hetex::detail::StagingPipeline> pipeline_;
  Item* item_ = nullptr;  // the one being submitted
  detail::Plan plan_;
};

class Progress {
 public:
  Progress(bool wanted, std::size_t total) : on_(wanted && ::isatty(STDERR_FILENO)), total_(total) {}
  void update(std::size_t done, std::size_t failed) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30, filled = total_ ? int(width * done / total_) : width;
    std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu images%s", filled, "##############################", width - filled, "",
                 done, total_, failed ? (" (" + std::to_string(failed) + " failed)").c_str() : "");
    if (done == total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::size_t total_;
  std::chrono::steady_clock::time_point last_{};
};

Status compute_on_cpu(const Pipeline& p, Item& item) {
  item.result.resize(item.out_shape.bytes());
  return run_cpu(p, view(item.decoded), item.result);
}

}  // namespace

Result<StreamReport> process_files(std::span<const FileJob> jobs, const StreamOptions& options) {
  HETEX_TRY_VOID(validate(options.pipeline));
  if (options.device != "cpu" && options.device != "gpu" && options.device != "auto")
    return Error(Errc::invalid_argument, "device must be cpu, gpu or auto, not '" + options.device + "'");
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<GpuStages> gpu;
  if (options.device != "cpu") {
    auto rt = HETEX_TRY(Runtime::create());
    // The streamed stages are CUDA kernels: the first CUDA GPU runs them.
    const auto gpus = rt.gpus();
    const auto cuda =
        std::find_if(gpus.begin(), gpus.end(), [](const Device& d) { return d.kind() == DeviceKind::cuda; });
    if (cuda != gpus.end()) {
      gpu = HETEX_TRY(GpuStages::create(*cuda, options.pipeline));
    } else if (options.device == "gpu") {
      return Error(Errc::unavailable, "--device gpu, but " + rt.gpu_unavailable_reason());
    }
  }
  StreamReport report;
  report.device = gpu ? gpu->device().id().to_string() : "cpu";
  const std::size_t cores = std::size_t(std::max(1, tbb::info::default_concurrency()));
  const std::size_t tokens = options.in_flight ? options.in_flight : std::max<std::size_t>(6, 2 * cores + 3);
  Progress progress(options.progress, jobs.size());
  const Pipeline& p = options.pipeline;
  std::size_t next = 0;

  auto read = tbb::make_filter<void, Item*>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> Item* {
    if (next == jobs.size() || (options.stop && options.stop())) {
      fc.stop();
      return nullptr;
    }
    auto* item = new Item;
    item->index = next++;
    return item;
  });
  auto decode = tbb::make_filter<Item*, Item*>(tbb::filter_mode::parallel, [&](Item* item) {
    auto img = load(jobs[item->index].input);
    if (!img) {
      item->status = std::move(img).error();
      return item;
    }
    item->decoded = std::move(*img);
    item->out_shape = output_shape(p, item->decoded.shape);
    if (gpu) {
      auto in = PinnedPool::shared().acquire<std::uint8_t>(item->decoded.shape.bytes());
      auto out = PinnedPool::shared().acquire<std::uint8_t>(item->out_shape.bytes());
      if (in && out) {
        std::memcpy(in->span().data(), item->decoded.pixels.data(), item->decoded.shape.bytes());
        item->staged_in = std::move(*in);
        item->staged_out = std::move(*out);
        item->on_gpu = true;
      }
    }
    return item;
  });
  auto submit = tbb::make_filter<Item*, Item*>(tbb::filter_mode::serial_in_order, [&](Item* item) {
    if (item->status && item->on_gpu && !gpu->submit(*item)) item->on_gpu = false;  // the CPU redoes it
    return item;
  });
  auto finish = tbb::make_filter<Item*, Item*>(tbb::filter_mode::parallel, [&](Item* item) {
    if (!item->status) return item;
    const std::uint8_t* px = nullptr;
    if (item->on_gpu && item->done.wait()) {
      px = item->staged_out.span().data();
    } else {
      item->status = compute_on_cpu(p, *item);
      if (!item->status) return item;
      px = item->result.data();
    }
    item->status = save(jobs[item->index].output, ImageView{item->out_shape, px}, options.jpeg_quality);
    return item;
  });
  auto report_stage = tbb::make_filter<Item*, void>(tbb::filter_mode::serial_in_order, [&](Item* item) {
    const bool fell_back = gpu && item->status && !item->result.empty();
    report.gpu_fallbacks += fell_back ? 1 : 0;
    if (item->status) {
      ++report.succeeded;
    } else {
      ++report.failed;
      report.errors.push_back(item->status.error());
    }
    if (options.on_done) options.on_done(item->index, jobs[item->index], item->status);
    progress.update(report.succeeded + report.failed, report.failed);
    delete item;
  });
  tbb::parallel_pipeline(tokens, read & decode & submit & finish & report_stage);
  if (gpu) (void)gpu->finish();  // every image was waited for; this gives the slots back
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Result<std::vector<FileJob>> jobs_for_directory(const std::string& in_dir, const std::string& out_dir) {
  std::error_code ec;
  std::vector<FileJob> jobs;
  std::filesystem::directory_iterator it(in_dir, ec);
  if (ec) return Error(Errc::io, in_dir + ": cannot list the directory (" + ec.message() + ")");
  for (const auto& entry : it) {
    if (!format_for(entry.path().string())) continue;
    if (entry.is_directory(ec)) continue;
    jobs.push_back({entry.path().string(), (std::filesystem::path(out_dir) / entry.path().filename()).string()});
  }
  std::sort(jobs.begin(), jobs.end(), [](const FileJob& a, const FileJob& b) { return a.input < b.input; });
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Error(Errc::io, out_dir + ": cannot create the output directory (" + ec.message() + ")");
  return jobs;
}

}  // namespace hetex::image
