// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Measured cost of running an operation on a device, learnt online: per size bucket (powers of
/// two) the recent run times, predicted by interpolating between the measured buckets nearest to
/// n (as StarPU's history models do); the median of the last few keeps one disturbed run from
/// steering routing. Why not a fitted line, and how the scheduler feeds it:
/// docs/design/scheduler.md, "Feedback".

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"

namespace hetex {

/// Where a batch's data lives when it is submitted: it decides whether a GPU pays transfers, and
/// whether the host pays a staging copy first (pageable host memory) or the GPU DMAs the data
/// straight from it (pinned: page-locked host memory).
enum class Residency : std::uint8_t { host, pinned, device };
const char* residency_name(Residency r) noexcept;  ///< "host", "pinned" or "device"

/// What a cost-model entry measured.
enum class Measured : std::uint8_t {
  alone,   ///< run times of one device running batches by itself, by size
  beside,  ///< how many times slower one device ran in a split, beside the others, than alone
  split,   ///< run times of whole splits, all devices together, end to end (no device)
};
std::string_view to_string(Measured m) noexcept;  ///< "alone", "beside", "split"

/// A snapshot of one key's measurements, cheap to evaluate many times without locks (the split
/// planner inverts it repeatedly).
class CostCurve {
 public:
  /// One measurement: n items took `seconds`.
  struct Point {
    double n;        ///< items
    double seconds;  ///< the run time
  };
  CostCurve() = default;
  explicit CostCurve(std::vector<Point> points) : pts_(std::move(points)) {}
  bool empty() const noexcept { return pts_.empty(); }  ///< nothing measured
  /// Predicted seconds for n items (0 when empty).
  double predict(std::size_t n) const noexcept;
  /// The largest n <= max_items with predict(n) <= seconds (0 when even one item takes longer).
  std::size_t items_within(double seconds, std::size_t max_items) const noexcept;

 private:
  std::vector<Point> pts_;  ///< by increasing n
};

/// Run times per operation, device, residency and size bucket (see the file's description).
/// Thread-safe; curves handed out are immutable snapshots.
class CostModel {
 public:
  static constexpr int kBuckets = 48;            ///< sizes up to 2^47 items
  static constexpr std::size_t kWindow = 5;      ///< samples kept per bucket
  static constexpr std::size_t kCalibrated = 3;  ///< samples before a bucket is trusted...
  /// ... when they agree: the slowest no more than this many times the fastest (per item). Else
  /// the bucket needs its whole window, whose median outvotes two disturbed runs.
  static constexpr double kSettledSpread = 1.5;
  /// Once a bucket's window is full, one run in this many is recorded: the model still follows a
  /// device that changes, and the curve is not rebuilt after every batch.
  static constexpr std::size_t kDecimation = 8;

  /// What one table of measurements is for.
  struct Key {
    std::string op;                         ///< the operation, and its cost class if any ("sha256/1k")
    DeviceId device;                        ///< DeviceId{} for Measured::split
    Residency residency = Residency::host;  ///< where the batch's data lived
    Measured measured = Measured::alone;    ///< what was timed

    /// The run times of `device` alone.
    static Key alone(std::string op, DeviceId device, Residency where) {
      return {std::move(op), device, where, Measured::alone};
    }
    /// How much slower `device` runs beside the others in a split.
    static Key beside(std::string op, DeviceId device, Residency where) {
      return {std::move(op), device, where, Measured::beside};
    }
    /// The run times of whole splits.
    static Key split(std::string op, Residency where) { return {std::move(op), DeviceId{}, where, Measured::split}; }
    friend auto operator<=>(const Key&, const Key&) = default;
  };

  static int bucket_of(std::size_t n) noexcept;  ///< the size bucket of n: floor(log2(n)), 0 for n <= 1

  /// every_run: record even where decimation would skip it (for measurements taken rarely, such
  /// as a split re-probed after splits had stopped).
  void record(const Key& key, std::size_t n, double seconds, bool every_run = false);
  /// A re-measurement after the recent runs of n's bucket had grown stale (a split re-probed after
  /// measured splits had stopped it): this run replaces them.
  void record_afresh(const Key& key, std::size_t n, double seconds);
  /// Predicted seconds for n items; nullopt when nothing has been measured for the key.
  std::optional<double> predict(const Key& key, std::size_t n) const;
  CostCurve curve(const Key& key) const;  ///< a snapshot of the key's measurements
  /// The curve and the samples in n's bucket, in one look (what routing asks on every batch).
  struct Lookup {
    std::shared_ptr<const CostCurve> curve;  ///< never null; empty when nothing is known
    std::size_t samples = 0;                 ///< measurements in n's bucket
    bool calibrated = false;                 ///< n's bucket is trusted (see kCalibrated)
  };
  Lookup lookup(const Key& key, std::size_t n) const;
  bool calibrated(const Key& key, std::size_t n) const;  ///< lookup(key, n).calibrated

  /// A dimensionless measure kept the way run times are (the median of the last kWindow,
  /// persisted alike) but recorded on every run, as no curve is rebuilt from it: how many times
  /// slower a device ran beside others than its curve alone predicts. One figure per key,
  /// whatever the sizes it was measured at.
  /// afresh: the ratio replaces the recent ones (a re-measurement after they had grown stale).
  void record_ratio(const Key& key, double ratio, bool afresh = false);
  /// A recorded ratio (record_ratio): the median of the recent ones, and how many there are.
  struct Ratio {
    double value = 1;
    std::size_t samples = 0;
  };
  std::optional<Ratio> ratio(const Key& key) const;          ///< nullopt when none was recorded for the key
  std::size_t samples(const Key& key, std::size_t n) const;  ///< measurements in n's bucket
  void clear();                                              ///< forgets everything

  /// Persistence: a small JSON file. Entries of simulated devices are not saved. load() merges
  /// what it reads, from this format (version 2) or the one before (version 1, where a split was
  /// the pseudo-device "split" and a ratio `"<device>@beside"`); a missing file is not an error, a
  /// malformed one or one of an unknown version is (and leaves the model as it was).
  /// save(): written whole or not at all; Errc::io naming the file. load(): Errc::invalid_argument
  /// for a malformed file or an unknown version.
  Status save(const std::filesystem::path& file) const;
  Status load(const std::filesystem::path& file);  ///< merges the file into the model (see save())

 private:
  using Sample = CostCurve::Point;
  struct Bucket {
    std::vector<Sample> recent;  ///< ring of up to kWindow
    std::size_t next = 0;
    std::size_t count = 0;
    std::size_t skipped = 0;  ///< runs not recorded since the window filled (decimation)
    Sample typical() const;   ///< median time, with the mean n of the window
    bool calibrated() const;
  };
  struct Table {
    std::vector<Bucket> buckets;  ///< kBuckets
    /// Built on first use after a change: routing reads curves on every batch.
    mutable std::shared_ptr<const CostCurve> curve;
  };

  static CostCurve curve_of(const Table& t);
  static const std::shared_ptr<const CostCurve>& cached_curve(const Table& t);

  mutable std::mutex m_;
  std::map<Key, Table> tables_;
};

/// A stable key for this machine: host name, CPU model and GPU models. Calibration files are named
/// by it, so a model measured on one machine is never used on another.
std::string machine_key(const std::vector<std::string>& device_descriptions);
/// $XDG_CACHE_HOME/hetex/calibration-`<hash of machine key>`.json (or ~/.cache/hetex/...).
std::filesystem::path default_calibration_file(const std::string& machine);

}  // namespace hetex
