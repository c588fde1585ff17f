// SPDX-License-Identifier: MIT
// hetex image across ranks. A chunk is a run of image files in name order. Where every rank sees
// the input directory alike and writes into the same output directory (a shared file system),
// a chunk travels as its file indices and its rank reads, filters and writes the images itself
// (as the single-process command does, through the same streaming pipeline). Otherwise rank 0
// reads each file and sends its bytes, the rank returns the encoded result, and rank 0 writes it.
// Every output file is written whole under a temporary name and renamed into place.
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "hetex/core/file.hpp"
#include "dist/session.hpp"
#include "hetex/dist/bytes.hpp"
#include "hetex/ops/image_io.hpp"
#include "hetex/ops/image_scheduled.hpp"
#include "hetex/ops/image_stream.hpp"

namespace hetex::cli {
namespace dist_cmd {
namespace {

enum class Item : std::uint8_t { by_path = 0, bytes = 1, error = 2 };
constexpr double kCostPerFile = 64 << 10;

class ImageJob final : public dist::ChunkSource, public dist::ChunkWorker {
 public:
  ImageJob(Session& s, const DistImage& a, std::vector<image::FileJob> jobs, std::vector<std::string> identity,
           bool shared)
      : s_(s), a_(a), jobs_(std::move(jobs)), identity_(std::move(identity)), shared_(shared) {
    for (std::size_t i = 0; i < jobs_.size(); ++i) total_ += cost_of(i);
  }

  // --- rank 0
  std::uint64_t position() const override { return pos_; }
  double total_cost() const override { return total_; }
  Result<std::optional<dist::Range>> next(double cost, std::uint64_t limit, bool for_root, dist::ChunkPayload& payload,
                                          double& actual) override {
    if (pos_ >= jobs_.size()) return std::optional<dist::Range>{};
    dist::ByteWriter w(payload);
    const std::uint64_t begin = pos_;
    actual = 0;
    while (pos_ < jobs_.size() && pos_ < limit && (pos_ == begin || actual + cost_of(pos_) <= cost)) {
      actual += cost_of(pos_);
      if (shared_ || for_root) {
        w.put(Item::by_path);
      } else {
        auto bytes = hetex::read_file(jobs_[pos_].input, {.special_files = false});
        if (bytes) {
          w.put(Item::bytes);
          w.put_array(std::span<const std::uint8_t>(*bytes));
        } else {
          w.put(Item::error);
          w.put_string(bytes.error().message());
        }
      }
      ++pos_;
    }
    return std::optional(dist::Range{begin, pos_});
  }
  Status skip(std::uint64_t to) override {  // the journal's chunks are delivered from it
    pos_ = to;
    return {};
  }
  Status deliver(dist::Range r, std::span<const std::uint8_t> result) override {
    dist::ByteReader in(result);
    for (auto i = r.begin; i < r.end; ++i) {
      const auto item = HETEX_TRY(in.get<Item>());
      Status st;
      if (item == Item::error) {
        st = Error(Errc::io, std::string(HETEX_TRY(in.get_string())));
      } else if (item == Item::bytes) {
        st = write_file_atomic(jobs_[i].output, HETEX_TRY(in.get_array<std::uint8_t>()));
      }
      ++done_;
      if (st) {
        ++written_;
      } else {
        ++failed_;
        if (a_.progress && isatty(STDERR_FILENO)) std::fputs("\r\033[K", stderr);
        std::fprintf(stderr, "hetex image: %s\n", st.error().message().c_str());
      }
      if (a_.progress && isatty(STDERR_FILENO))
        std::fprintf(stderr, "\rhetex image: %zu/%zu images on %d ranks", done_, jobs_.size(), s_.comm().size());
    }
    return {};
  }

  // --- every rank
  Result<std::vector<std::uint8_t>> run(dist::Range r, std::span<const std::uint8_t> payload) override {
    dist::ByteReader in(payload);
    std::vector<std::uint8_t> out;
    dist::ByteWriter w(out);
    // Files by path go through the streaming pipeline together, as in one process.
    std::vector<image::FileJob> by_path;
    std::vector<std::uint64_t> by_path_index;
    std::vector<std::optional<Status>> by_path_status;
    struct Slot {
      Item item;
      std::size_t path_index = 0;
      std::vector<std::uint8_t> bytes;
      std::string error;
    };
    std::vector<Slot> slots;
    for (auto i = r.begin; i < r.end; ++i) {
      Slot slot{HETEX_TRY(in.get<Item>())};
      if (slot.item == Item::by_path) {
        slot.path_index = by_path.size();
        by_path.push_back(jobs_[i]);
      } else if (slot.item == Item::bytes) {
        auto encoded = process_bytes(HETEX_TRY(in.get_array<std::uint8_t>()), jobs_[i]);
        if (encoded) {
          slot.bytes = std::move(*encoded);
        } else {
          slot.item = Item::error;
          slot.error = encoded.error().message();
        }
      } else {
        slot.error = std::string(HETEX_TRY(in.get_string()));
      }
      slots.push_back(std::move(slot));
    }
    std::vector<std::string> path_errors(by_path.size());
    if (!by_path.empty()) {
      image::StreamOptions o{
          .pipeline = a_.pipeline, .device = s_.device(), .progress = false, .jpeg_quality = a_.quality};
      o.on_done = [&](std::size_t k, const image::FileJob&, const Status& st) {
        if (!st) path_errors[k] = st.error().message();
      };
      HETEX_TRY(image::process_files(by_path, o));
    }
    for (const auto& slot : slots) {
      if (slot.item == Item::by_path && path_errors[slot.path_index].empty()) {
        w.put(Item::by_path);  // written in place
      } else if (slot.item == Item::bytes) {
        w.put(Item::bytes);
        w.put_array(std::span<const std::uint8_t>(slot.bytes));
      } else {
        w.put(Item::error);
        w.put_string(slot.item == Item::by_path ? path_errors[slot.path_index] : slot.error);
      }
    }
    return out;
  }

  std::size_t done_ = 0, written_ = 0, failed_ = 0;

 private:
  Result<std::vector<std::uint8_t>> process_bytes(std::span<const std::uint8_t> bytes, const image::FileJob& job) {
    auto format = HETEX_TRY(image::format_for(job.output));
    auto img = HETEX_TRY(image::decode(bytes, job.input));
    const auto shape = image::output_shape(a_.pipeline, img.shape);
    image::Image result = image::make_image(shape);
    HETEX_TRY_VOID(image::run(s_.scheduler(), a_.pipeline, image::view(img), result.pixels));
    auto encoded = image::encode(image::view(result), format, a_.quality);
    if (!encoded) return encoded.error().with_context(job.output);
    return std::move(*encoded);
  }
  double cost_of(std::size_t i) const {
    const auto& id = identity_[i];
    return kCostPerFile + (id.empty() ? 0 : std::stod(id.substr(0, id.find(':'))));
  }

  Session& s_;
  const DistImage& a_;
  std::vector<image::FileJob> jobs_;
  std::vector<std::string> identity_;
  bool shared_;
  double total_ = 0;
  std::uint64_t pos_ = 0;
};

// True on every rank when they all write into the same directory: rank 0 leaves a token there
// that every rank must read back.
bool everyone_writes_to(Session& s, const std::string& dir) {
  std::string token;
  std::filesystem::path probe;
  if (s.is_root()) {
    token = std::to_string(std::random_device{}()) + "-" + std::to_string(::getpid());
    probe = std::filesystem::path(dir) / (".hetex-probe-" + token);
    std::ofstream(probe) << token;
  }
  token = s.comm().broadcast(token).value_or("");
  std::string seen;
  std::ifstream(std::filesystem::path(dir) / (".hetex-probe-" + token)) >> seen;
  const bool all = s.comm().all(!token.empty() && seen == token).value_or(false);
  (void)s.comm().barrier();
  if (s.is_root()) {
    std::error_code ec;
    std::filesystem::remove(probe, ec);
  }
  return all;
}

}  // namespace
}  // namespace dist_cmd

int dist_image(const DistImage& a, const Common& common, const DistArgs& args) {
  using namespace dist_cmd;
  auto s = Session::open("image", common, args);
  if (!s) return 2;
  const auto t0 = std::chrono::steady_clock::now();
  // Every rank lists the input itself: it must see what rank 0 sees to work by path.
  std::vector<image::FileJob> jobs;
  std::string listing_error;
  if (a.batch) {
    auto listed = image::jobs_for_directory(a.in, a.out);
    if (listed)
      jobs = std::move(*listed);
    else
      listing_error = listed.error().message();
  } else if (auto f = image::format_for(a.out); !f) {
    listing_error = f.error().message();
  } else {
    jobs.push_back({a.in, a.out});
  }
  // Rank 0's listing decides; a rank that cannot list the input works from bytes (see below).
  if (!listing_error.empty() && s->is_root()) std::fprintf(stderr, "hetex image: %s\n", listing_error.c_str());
  if (s->comm().broadcast(listing_error.empty() ? "ok" : "").value_or("") != "ok") return 2;
  std::vector<std::string> identity;
  std::string fingerprint = a.batch ? a.out + "|" : a.in + "|" + a.out + "|";
  for (const auto& j : jobs) {
    identity.push_back(file_identity(j.input));
    fingerprint += j.input + "|" + identity.back() + "\n";
  }
  const auto& p = a.pipeline;
  fingerprint += "gray=" + std::to_string(p.gray) + " sigma=" + std::to_string(p.sigma) +
                 " ksize=" + std::to_string(p.ksize) + " edges=" + std::to_string(static_cast<int>(p.edges)) +
                 " threshold=" + std::to_string(p.threshold) + " quality=" + std::to_string(a.quality);
  const bool shared = s->comm().size() > 1 && a.batch && s->everyone_sees(fingerprint) && everyone_writes_to(*s, a.out);
  // Without a shared file system only rank 0's listing counts: the others learn its names.
  if (!shared && s->comm().size() > 1) {
    std::string names;
    if (s->is_root())
      for (const auto& j : jobs) names += j.input + '\n' + j.output + '\n';
    names = s->comm().broadcast(names).value_or("");
    if (!s->is_root()) {
      jobs.clear();
      identity.clear();
      for (std::size_t at = 0; at < names.size();) {
        const auto a1 = names.find('\n', at), a2 = names.find('\n', a1 + 1);
        jobs.push_back({names.substr(at, a1 - at), names.substr(a1 + 1, a2 - a1 - 1)});
        identity.emplace_back();
        at = a2 + 1;
      }
    }
  }
  ImageJob job(*s, a, std::move(jobs), std::move(identity), shared);
  auto o = s->job_options(fingerprint, 1, 1, 256 << 20);
  auto r = dist::run_job(s->comm(), s->is_root() ? &job : nullptr, job, o);
  s->conclude(r);
  if (!s->is_root()) return 0;
  if (a.progress && isatty(STDERR_FILENO)) std::fputs("\r\033[K", stderr);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.batch)
    std::fprintf(stderr, "hetex image: %zu images on %d rank%s in %.2f s: %zu written, %zu failed\n", job.done_,
                 s->comm().size(), s->comm().size() > 1 ? "s" : "", seconds, job.written_, job.failed_);
  s->summarize(*r, "images");
  return job.failed_ ? 1 : 0;
}

}  // namespace hetex::cli
