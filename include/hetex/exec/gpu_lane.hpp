// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// One GPU's working set for running operations: the device and a few streams of it, created once
/// and reused by every chunk, so a GPU implementation overlaps uploads, kernels and downloads by
/// spreading its pieces over the streams instead of creating streams per call.

#include <memory>
#include <span>
#include <vector>

#include "hetex/async/stream.hpp"
#include "hetex/core/device.hpp"

namespace hetex {

/// Seconds spent uploading, computing and downloading.
struct PhaseTimes {
  double h2d = 0, compute = 0, d2h = 0;
};

/// A GPU and its streams (see the file's description). Owned by one executor, used by one chunk at
/// a time.
class GpuLane {
 public:
  static constexpr int kDefaultStreams = 3;  ///< one each for uploads, kernels and downloads to overlap
  /// Errc::invalid_argument for the CPU; Stream::create's error otherwise.
  static Result<std::unique_ptr<GpuLane>> create(const Device& gpu, int streams = kDefaultStreams);

  const Device& device() const noexcept { return device_; }
  std::span<Stream> streams() noexcept { return streams_; }  ///< the lane's streams, on its device
  Stream& stream(std::size_t i) noexcept { return streams_[i % streams_.size()]; }  ///< stream i modulo their number

  /// GPU implementations that time their phases report them here; they show in ExecStats.
  void report_phases(const PhaseTimes& t) noexcept {
    phases_.h2d += t.h2d;
    phases_.compute += t.compute;
    phases_.d2h += t.d2h;
  }
  /// The phases reported so far, which are reset.
  PhaseTimes take_phases() noexcept { return std::exchange(phases_, PhaseTimes{}); }

 private:
  GpuLane(Device d, std::vector<Stream> s) : device_(std::move(d)), streams_(std::move(s)) {}
  Device device_;
  std::vector<Stream> streams_;
  PhaseTimes phases_;
};

inline Result<std::unique_ptr<GpuLane>> GpuLane::create(const Device& gpu, int streams) {
  if (!gpu.is_gpu()) return Error(Errc::invalid_argument, "a GPU lane needs a GPU, not " + gpu.id().to_string());
  std::vector<Stream> s;
  for (int i = 0; i < std::max(1, streams); ++i) {
    auto st = Stream::create(gpu);
    if (!st) return std::move(st).error().with_context("creating the streams of " + gpu.id().to_string());
    s.push_back(std::move(*st));
  }
  return std::unique_ptr<GpuLane>(new GpuLane(gpu, std::move(s)));
}

}  // namespace hetex
