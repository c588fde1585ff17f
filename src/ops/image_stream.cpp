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

#include "hetex/async/stream.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/memory/pool.hpp"
#include "hetex/ops/image_io.hpp"

namespace hetex::image {
namespace {

struct Item {
  std::size_t index = 0;
  Status status;
  Image decoded;                 // CPU path, and the source of a GPU fallback
  Shape out_shape;
  PinnedBuffer<std::uint8_t> staged_in, staged_out;  // GPU path
  Event done;                    // the GPU download of staged_out
  bool on_gpu = false;
  std::vector<std::uint8_t> result;  // CPU path
};

// One of the three device slots: an image's upload, kernel and download use the slot's buffers;
// the slot is reused once its last download finished. Buffers grow to the largest image seen.
struct Slot {
  DeviceImage in, out;
  Event free;
};

class GpuStages {
 public:
  static Result<GpuStages> create(const Device& gpu) {
    GpuStages g;
    g.gpu_ = gpu;
    for (int i = 0; i < 3; ++i) g.streams_.push_back(HETEX_TRY(Stream::create(gpu)));
    return g;
  }
  // Enqueues upload -> pipeline -> download of `item` and returns at once. On failure the
  // streams are drained, so the item's staging memory is free to go.
  Status submit(const Pipeline& p, Item& item) {
    auto s = enqueue(p, item);
    if (!s)
      for (auto& st : streams_) (void)st.synchronize();
    return s;
  }
  const Device& device() const { return gpu_; }

 private:
  Status enqueue(const Pipeline& p, Item& item) {
    Slot& slot = slots_[next_++ % 3];
    if (slot.free.valid()) HETEX_TRY_VOID(slot.free.wait());
    const Shape in = item.decoded.shape;
    HETEX_TRY_VOID(fit(slot.in, in));
    HETEX_TRY_VOID(fit(slot.out, item.out_shape));
    Stream &h2d = streams_[0], &compute = streams_[1], &d2h = streams_[2];
    auto up = h2d.copy(item.staged_in.read(), slot.in.pixels.write().subview(0, in.bytes()));
    if (up.is_ready()) HETEX_TRY_VOID(up.get());
    HETEX_TRY_VOID(compute.wait(HETEX_TRY(h2d.record())));
    HETEX_TRY_VOID(run_gpu(compute, p, slot.in, slot.out));
    HETEX_TRY_VOID(d2h.wait(HETEX_TRY(compute.record())));
    const DeviceImage& out = slot.out;
    auto down = d2h.copy(out.pixels.read().subview(0, item.out_shape.bytes()), item.staged_out.write());
    if (down.is_ready()) HETEX_TRY_VOID(down.get());
    item.done = HETEX_TRY(d2h.record());
    slot.free = item.done;
    return {};
  }
  Status fit(DeviceImage& img, const Shape& s) {
    if (img.pixels.size() < s.bytes()) {
      img.pixels = DeviceBuffer<std::uint8_t>();  // free first: the slot is idle
      img.pixels = HETEX_TRY(DeviceBuffer<std::uint8_t>::allocate(gpu_, s.bytes()));
    }
    img.shape = s;
    return {};
  }
  Device gpu_;
  std::vector<Stream> streams_;
  Slot slots_[3];
  std::size_t next_ = 0;
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
  std::optional<GpuStages> gpu;
  if (options.device != "cpu") {
    auto rt = HETEX_TRY(Runtime::create());
    if (rt.has_gpu()) {
      gpu = HETEX_TRY(GpuStages::create(rt.gpus().front()));
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
    if (item->status && item->on_gpu && !gpu->submit(p, *item)) item->on_gpu = false;  // the CPU redoes it
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
