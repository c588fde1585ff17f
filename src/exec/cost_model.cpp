// SPDX-License-Identifier: MIT
#include "hetex/exec/cost_model.hpp"

#include "hetex/core/file.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <fstream>
#include <nlohmann/json.hpp>

namespace hetex {

int CostModel::bucket_of(std::size_t n) noexcept {
  if (n <= 1) return 0;
  return std::min<int>(kBuckets - 1, std::bit_width(n) - 1);
}

CostModel::Sample CostModel::Bucket::typical() const {
  std::array<double, kWindow> t{};
  double n_sum = 0;
  for (std::size_t i = 0; i < recent.size(); ++i) {
    t[i] = recent[i].seconds;
    n_sum += recent[i].n;
  }
  const auto end = t.begin() + recent.size();
  std::nth_element(t.begin(), t.begin() + recent.size() / 2, end);
  return {n_sum / recent.size(), t[recent.size() / 2]};
}

bool CostModel::Bucket::calibrated() const {
  if (count < kCalibrated) return false;
  if (recent.size() >= kWindow) return true;
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < recent.size(); ++i) {
    const double per_item = recent[i].seconds / std::max(1.0, recent[i].n);
    lo = i == 0 ? per_item : std::min(lo, per_item);
    hi = i == 0 ? per_item : std::max(hi, per_item);
  }
  return hi <= kSettledSpread * lo;
}

const char* residency_name(Residency r) noexcept {
  switch (r) {
    case Residency::host: return "host";
    case Residency::pinned: return "pinned";
    case Residency::device: return "device";
  }
  return "host";
}

std::string_view to_string(Measured m) noexcept {
  switch (m) {
    case Measured::alone: return "alone";
    case Measured::beside: return "beside";
    case Measured::split: return "split";
  }
  return "alone";
}

void CostModel::record(const Key& key, std::size_t n, double seconds, bool every_run) {
  if (!(seconds >= 0)) return;  // NaN or negative: a clock problem, not a measurement
  std::lock_guard lock(m_);
  auto& table = tables_[key];
  if (table.buckets.empty()) table.buckets.resize(kBuckets);
  auto& b = table.buckets[bucket_of(n)];
  const Sample s{static_cast<double>(n), seconds};
  if (b.recent.size() == kWindow && !every_run && ++b.skipped % kDecimation != 0) return;
  table.curve.reset();
  if (b.recent.size() < kWindow) {
    b.recent.push_back(s);
  } else {
    b.recent[b.next] = s;
  }
  b.next = (b.next + 1) % kWindow;
  ++b.count;
}

double CostCurve::predict(std::size_t n_items) const noexcept {
  if (pts_.empty()) return 0;
  const double n = static_cast<double>(n_items);
  if (pts_.size() == 1) {
    // One size measured: proportional to it. (With nothing known of the fixed cost, assuming
    // one would keep the split planner from ever giving this device a share smaller than the
    // size it happened to be measured at.)
    return pts_[0].seconds * n / std::max(1.0, pts_[0].n);
  }
  if (n <= pts_.front().n) {
    const auto& a = pts_[0];
    const auto& b = pts_[1];
    const double slope = std::max(0.0, (b.seconds - a.seconds) / (b.n - a.n));
    return std::clamp(a.seconds - slope * (a.n - n), 0.0, a.seconds);
  }
  if (n >= pts_.back().n) {
    const auto& a = pts_[pts_.size() - 2];
    const auto& b = pts_.back();
    double slope = (b.seconds - a.seconds) / (b.n - a.n);
    if (!(slope > 0)) slope = b.seconds / b.n;
    return b.seconds + slope * (n - b.n);
  }
  auto hi = std::lower_bound(pts_.begin(), pts_.end(), n, [](const Point& p, double x) { return p.n < x; });
  const auto& a = *(hi - 1);
  const auto& b = *hi;
  return a.seconds + (n - a.n) / (b.n - a.n) * (b.seconds - a.seconds);
}

std::size_t CostCurve::items_within(double seconds, std::size_t max_items) const noexcept {
  if (pts_.empty() || predict(max_items) <= seconds) return pts_.empty() ? 0 : max_items;
  std::size_t lo = 0, hi = max_items;  // predict(hi) > seconds; lo is the best known answer
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (predict(mid) <= seconds)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

CostCurve CostModel::curve_of(const Table& t) {
  std::vector<Sample> pts;
  for (const auto& b : t.buckets)
    if (!b.recent.empty()) pts.push_back(b.typical());
  return CostCurve(std::move(pts));
}

const std::shared_ptr<const CostCurve>& CostModel::cached_curve(const Table& t) {
  if (!t.curve) t.curve = std::make_shared<const CostCurve>(curve_of(t));
  return t.curve;
}

CostCurve CostModel::curve(const Key& key) const { return *lookup(key, 0).curve; }

CostModel::Lookup CostModel::lookup(const Key& key, std::size_t n) const {
  static const auto empty = std::make_shared<const CostCurve>();
  std::lock_guard lock(m_);
  auto it = tables_.find(key);
  if (it == tables_.end()) return {empty, 0};
  const auto& b = it->second.buckets[bucket_of(n)];
  return {cached_curve(it->second), b.count, b.calibrated()};
}

std::optional<double> CostModel::predict(const Key& key, std::size_t n) const {
  auto c = curve(key);
  if (c.empty()) return std::nullopt;
  return c.predict(n);
}

std::size_t CostModel::samples(const Key& key, std::size_t n) const {
  std::lock_guard lock(m_);
  auto it = tables_.find(key);
  return it == tables_.end() ? 0 : it->second.buckets[bucket_of(n)].count;
}

bool CostModel::calibrated(const Key& key, std::size_t n) const { return lookup(key, n).calibrated; }

void CostModel::record_afresh(const Key& key, std::size_t n, double seconds) {
  if (!(seconds >= 0)) return;
  {
    std::lock_guard lock(m_);
    auto& table = tables_[key];
    if (table.buckets.empty()) table.buckets.resize(kBuckets);
    auto& b = table.buckets[bucket_of(n)];
    b.recent.clear();
    b.next = 0;
  }
  record(key, n, seconds, true);
}

// Kept as samples of one item in bucket 0, so that the window and persistence are those of run
// times.
void CostModel::record_ratio(const Key& key, double ratio, bool afresh) {
  if (!(ratio > 0) || !std::isfinite(ratio)) return;
  if (afresh)
    record_afresh(key, 1, ratio);
  else
    record(key, 1, ratio, true);
}

std::optional<CostModel::Ratio> CostModel::ratio(const Key& key) const {
  std::lock_guard lock(m_);
  auto it = tables_.find(key);
  if (it == tables_.end()) return std::nullopt;
  const auto& b = it->second.buckets[0];
  if (b.recent.empty()) return std::nullopt;
  return Ratio{b.typical().seconds, b.count};
}

void CostModel::clear() {
  std::lock_guard lock(m_);
  tables_.clear();
}

namespace {

constexpr int kFileVersion = 2;

Residency residency_from(const std::string& where) {
  if (where == "host") return Residency::host;
  if (where == "pinned") return Residency::pinned;
  if (where == "device") return Residency::device;
  throw std::out_of_range("residency '" + where + "'");
}

DeviceId device_from(const std::string& name) {
  auto id = DeviceId::parse(name);
  if (!id) throw std::out_of_range("device '" + name + "'");
  return *id;
}

// Version 1 named what was measured in the device field: "split" for whole splits,
// "<device>@beside" for a device's slowdown beside the others.
CostModel::Key key_v1(const nlohmann::json& e, Residency where) {
  auto op = e.at("op").get<std::string>();
  const auto device = e.at("device").get<std::string>();
  if (device == "split") return CostModel::Key::split(std::move(op), where);
  constexpr std::string_view beside = "@beside";
  if (device.ends_with(beside))
    return CostModel::Key::beside(std::move(op), device_from(device.substr(0, device.size() - beside.size())), where);
  return CostModel::Key::alone(std::move(op), device_from(device), where);
}

CostModel::Key key_v2(const nlohmann::json& e, Residency where) {
  auto op = e.at("op").get<std::string>();
  const auto measured = e.at("measured").get<std::string>();
  if (measured == "split") return CostModel::Key::split(std::move(op), where);
  const DeviceId device = device_from(e.at("device").get<std::string>());
  if (measured == "beside") return CostModel::Key::beside(std::move(op), device, where);
  if (measured == "alone") return CostModel::Key::alone(std::move(op), device, where);
  throw std::out_of_range("measured '" + measured + "'");
}

}  // namespace

Status CostModel::save(const std::filesystem::path& file) const {
  nlohmann::json entries = nlohmann::json::array();
  {
    std::lock_guard lock(m_);
    for (const auto& [key, table] : tables_) {
      if (key.measured != Measured::split && !calibration_persists(key.device.kind)) continue;
      for (int b = 0; b < kBuckets; ++b) {
        const auto& bucket = table.buckets[b];
        if (bucket.recent.empty()) continue;
        nlohmann::json samples = nlohmann::json::array();
        for (const auto& s : bucket.recent) samples.push_back({s.n, s.seconds});
        nlohmann::json entry = {{"op", key.op}, {"measured", to_string(key.measured)}};
        if (key.measured != Measured::split) entry["device"] = key.device.to_string();
        entry["residency"] = residency_name(key.residency);
        entry["bucket"] = b;
        entry["count"] = bucket.count;
        entry["samples"] = std::move(samples);
        entries.push_back(std::move(entry));
      }
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Whole or not at all: a reader never sees half a file, and two processes never interleave.
  auto written = write_file_atomic(
      file, nlohmann::json{{"version", kFileVersion}, {"entries", std::move(entries)}}.dump(1) + "\n");
  if (!written) return std::move(written).error().with_context("calibration file");
  return {};
}

Status CostModel::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return {};  // nothing calibrated yet
  std::map<Key, Table> loaded;
  try {
    const auto j = nlohmann::json::parse(in);
    // Whole numbers in range only: get<int>() of 1e300 would be undefined (fuzz_calibration covers it).
    auto whole = [](const nlohmann::json& v, const char* what, std::int64_t lo, std::int64_t hi) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
        throw std::out_of_range(std::string(what) + " " + v.dump());
      return v.get<std::int64_t>();
    };
    const auto version = whole(j.at("version"), "version", INT64_MIN, INT64_MAX);
    if (version != 1 && version != kFileVersion)
      return Error(Errc::invalid_argument, "calibration file " + file.string() + " has an unknown version (" +
                                               std::to_string(version) +
                                               "); its measurements are not used and the devices are measured again");
    for (const auto& e : j.at("entries")) {
      const Residency where = residency_from(e.at("residency").get<std::string>());
      Key key = version == 1 ? key_v1(e, where) : key_v2(e, where);
      const auto b = static_cast<int>(whole(e.at("bucket"), "bucket", 0, kBuckets - 1));
      auto& table = loaded[key];
      if (table.buckets.empty()) table.buckets.resize(kBuckets);
      auto& bucket = table.buckets[b];
      for (const auto& s : e.at("samples")) {
        const double n = s.at(0).get<double>(), t = s.at(1).get<double>();
        if (!(n >= 0) || !(t >= 0)) throw std::out_of_range("negative sample");
        if (bucket.recent.size() < kWindow) bucket.recent.push_back({n, t});
      }
      const auto count = static_cast<std::size_t>(whole(e.at("count"), "count", 0, INT64_MAX));
      bucket.count = std::max<std::size_t>(count, bucket.recent.size());
      bucket.next = bucket.recent.size() % kWindow;
    }
  } catch (const std::exception& ex) {
    return Error(Errc::invalid_argument,
                 "calibration file " + file.string() + " is malformed (" + ex.what() + "); delete it to recalibrate");
  }
  std::lock_guard lock(m_);
  for (auto& [k, t] : loaded) tables_[k] = std::move(t);
  return {};
}

std::string machine_key(const std::vector<std::string>& device_descriptions) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
  std::string key = host;
  for (const auto& d : device_descriptions) key += "|" + d;
  return key;
}

std::filesystem::path default_calibration_file(const std::string& machine) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across runs and builds, unlike std::hash
  for (unsigned char c : machine) h = (h ^ c) * 1099511628211ull;
  char name[64];
  std::snprintf(name, sizeof name, "calibration-%016llx.json", static_cast<unsigned long long>(h));
  return cache_directory() / name;
}

}  // namespace hetex
