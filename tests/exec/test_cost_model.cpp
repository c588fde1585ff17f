// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "hetex/exec/cost_model.hpp"

namespace hetex {
namespace {

const CostModel::Key kCpu = CostModel::Key::alone("op", DeviceId::cpu(), Residency::host);
const CostModel::Key kGpu = CostModel::Key::alone("op", DeviceId::cuda(0), Residency::host);

std::filesystem::path temp_file(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("hetex-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

TEST(CostModel, BucketsArePowersOfTwo) {
  EXPECT_EQ(CostModel::bucket_of(0), 0);
  EXPECT_EQ(CostModel::bucket_of(1), 0);
  EXPECT_EQ(CostModel::bucket_of(2), 1);
  EXPECT_EQ(CostModel::bucket_of(1023), 9);
  EXPECT_EQ(CostModel::bucket_of(1024), 10);
  EXPECT_EQ(CostModel::bucket_of(std::size_t(1) << 26), 26);
}

TEST(CostModel, NothingMeasuredPredictsNothing) {
  CostModel m;
  EXPECT_FALSE(m.predict(kCpu, 100).has_value());
  EXPECT_FALSE(m.calibrated(kCpu, 100));
  EXPECT_TRUE(m.curve(kCpu).empty());
}

TEST(CostModel, InterpolatesBetweenMeasuredSizes) {
  CostModel m;
  // GPU-like: 50 us fixed plus 1 ns per item.
  for (std::size_t n : {1024u, 1u << 20})
    for (int i = 0; i < 3; ++i) m.record(kGpu, n, 50e-6 + n * 1e-9);
  EXPECT_TRUE(m.calibrated(kGpu, 1024));
  EXPECT_FALSE(m.calibrated(kGpu, 1u << 15));
  const double mid = *m.predict(kGpu, 1u << 15);
  EXPECT_NEAR(mid, 50e-6 + (1u << 15) * 1e-9, 1e-7);
  // Extrapolation above follows the slope; below never drops under zero nor above the smallest.
  EXPECT_NEAR(*m.predict(kGpu, 1u << 22), 50e-6 + (1u << 22) * 1e-9, 1e-6);
  const double tiny = *m.predict(kGpu, 1);
  EXPECT_GT(tiny, 40e-6);
  EXPECT_LE(tiny, 50e-6 + 1024e-9);
}

TEST(CostModel, MedianIgnoresOneOutlier) {
  CostModel m;
  m.record(kCpu, 4096, 1.0);  // a first run that paid for warm-up
  m.record(kCpu, 4096, 1e-3);
  m.record(kCpu, 4096, 1.1e-3);
  EXPECT_NEAR(*m.predict(kCpu, 4096), 1.1e-3, 1e-9);
}

TEST(CostModel, FullBucketsSampleOneRunInEightYetFollowAChange) {
  CostModel m;
  for (int i = 0; i < 5; ++i) m.record(kCpu, 4096, 1e-3);
  for (int i = 0; i < 7; ++i) m.record(kCpu, 4096, 1.0);  // skipped: the window is full
  EXPECT_NEAR(*m.predict(kCpu, 4096), 1e-3, 1e-12);
  for (int i = 0; i < 17; ++i) m.record(kCpu, 4096, 1.0);  // 24 runs since full: 3 recorded
  EXPECT_NEAR(*m.predict(kCpu, 4096), 1.0, 1e-12);
  EXPECT_EQ(m.samples(kCpu, 4096), 8u);
  // A rare measurement (a re-probed split) is recorded whatever the decimation.
  for (int i = 0; i < 3; ++i) m.record(kCpu, 4096, 2.0, /*every_run=*/true);
  EXPECT_NEAR(*m.predict(kCpu, 4096), 2.0, 1e-12);
  EXPECT_EQ(m.samples(kCpu, 4096), 11u);
}

TEST(CostModel, ARatioIsTheMedianOfItsRecentSamplesAndIsSaved) {
  const auto k = CostModel::Key::beside("op", DeviceId::cuda(0), Residency::pinned);
  CostModel m;
  EXPECT_FALSE(m.ratio(k).has_value());
  m.record_ratio(k, 1.05);
  m.record_ratio(k, 9.0);  // one disturbed split
  m.record_ratio(k, 1.10);
  m.record_ratio(k, -1.0);  // nonsense: ignored
  m.record_ratio(k, std::nan(""));
  ASSERT_TRUE(m.ratio(k).has_value());
  EXPECT_NEAR(m.ratio(k)->value, 1.10, 1e-12);
  EXPECT_EQ(m.ratio(k)->samples, 3u);
  // Recorded on every run (no decimation): five more runs replace the window.
  for (int i = 0; i < 5; ++i) m.record_ratio(k, 2.0);
  EXPECT_NEAR(m.ratio(k)->value, 2.0, 1e-12);
  for (int i = 0; i < 5; ++i) m.record_ratio(k, 1.10);
  const auto file = temp_file("ratios.json");
  ASSERT_TRUE(m.save(file));
  CostModel loaded;
  ASSERT_TRUE(loaded.load(file));
  ASSERT_TRUE(loaded.ratio(k).has_value());
  EXPECT_NEAR(loaded.ratio(k)->value, 1.10, 1e-12);
  EXPECT_EQ(loaded.ratio(k)->samples, 13u);
  // Afresh: one measurement replaces the window (a burst of slow ones no longer decides).
  for (int i = 0; i < 3; ++i) loaded.record_ratio(k, 5.0);
  EXPECT_NEAR(loaded.ratio(k)->value, 5.0, 1e-12);
  loaded.record_ratio(k, 1.2, /*afresh=*/true);
  EXPECT_NEAR(loaded.ratio(k)->value, 1.2, 1e-12);
  EXPECT_EQ(loaded.ratio(k)->samples, 17u);
}

TEST(CostModel, AFreshRunReplacesItsBucketsWindow) {
  CostModel m;
  for (int i = 0; i < 5; ++i) m.record(kCpu, 4096, 1.0);
  m.record(kCpu, 1 << 20, 2.0);
  m.record_afresh(kCpu, 4096, 1e-3);
  EXPECT_NEAR(*m.predict(kCpu, 4096), 1e-3, 1e-12);
  EXPECT_EQ(m.samples(kCpu, 4096), 6u);                // calibrated still: it was measured before
  EXPECT_NEAR(*m.predict(kCpu, 1 << 20), 2.0, 1e-12);  // other sizes keep theirs
}

TEST(CostModel, CurveInvertsPrediction) {
  CostModel m;
  for (std::size_t n : {1000u, 1000000u}) m.record(kCpu, n, n * 1e-8);
  const auto c = m.curve(kCpu);
  const std::size_t x = c.items_within(1e-3, 10'000'000);
  EXPECT_NEAR(static_cast<double>(x), 100000.0, 2.0);
  EXPECT_LE(c.predict(x), 1e-3);
}

TEST(CostModel, RejectsNonsenseTimes) {
  CostModel m;
  m.record(kCpu, 10, -1.0);
  m.record(kCpu, 10, std::nan(""));
  EXPECT_EQ(m.samples(kCpu, 10), 0u);
}

TEST(CostModel, SavesAndLoadsButNotSimulatedDevices) {
  const auto file = temp_file("calibration.json");
  {
    CostModel m;
    for (int i = 0; i < 3; ++i) {
      m.record(kCpu, 1 << 12, 1e-4);
      m.record(CostModel::Key::alone("op", DeviceId::sim(0), Residency::host), 1 << 12, 5e-4);
      m.record(CostModel::Key::alone("op", DeviceId::cpu(), Residency::pinned), 1 << 12, 3e-4);
      m.record(CostModel::Key::split("op", Residency::host), 1 << 12, 2e-4);
    }
    ASSERT_TRUE(m.save(file)) << "save";
  }
  CostModel loaded;
  ASSERT_TRUE(loaded.load(file));
  EXPECT_TRUE(loaded.calibrated(kCpu, 1 << 12));
  EXPECT_NEAR(*loaded.predict(kCpu, 1 << 12), 1e-4, 1e-12);
  EXPECT_FALSE(loaded.predict(CostModel::Key::alone("op", DeviceId::sim(0), Residency::host), 1 << 12).has_value());
  // Pinned and pageable data are kept apart; so are what a device did alone and whole splits.
  EXPECT_NEAR(*loaded.predict(CostModel::Key::alone("op", DeviceId::cpu(), Residency::pinned), 1 << 12), 3e-4, 1e-12);
  EXPECT_NEAR(*loaded.predict(CostModel::Key::split("op", Residency::host), 1 << 12), 2e-4, 1e-12);
}

TEST(CostModel, MissingFileIsFineMalformedIsAnErrorAndChangesNothing) {
  CostModel m;
  m.record(kCpu, 100, 1e-5);
  EXPECT_TRUE(m.load(temp_file("does-not-exist.json")));
  const auto bad = temp_file("bad.json");
  std::ofstream(bad) << R"({"version": 1, "entries": [{"op": "op", "device": "cpu"}]})";
  auto st = m.load(bad);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  EXPECT_NE(st.error().message().find("bad.json"), std::string::npos);
  std::ofstream(bad) << "not json";
  EXPECT_FALSE(m.load(bad));
  EXPECT_EQ(m.samples(kCpu, 100), 1u);
}

TEST(CostModel, LoadsCalibrationFilesOfTheEarlierFormat) {
  // Version 1 named what was measured in the device field: "split", "<device>@beside".
  const auto file = temp_file("calibration-v1.json");
  std::ofstream(file) << R"({"version": 1, "entries": [
    {"op": "op", "device": "cpu", "residency": "host", "bucket": 12, "count": 3,
     "samples": [[4096, 1e-4], [4096, 1e-4], [4096, 1e-4]]},
    {"op": "op", "device": "cuda:0@beside", "residency": "pinned", "bucket": 0, "count": 4,
     "samples": [[1, 1.5], [1, 1.5], [1, 1.5], [1, 1.5]]},
    {"op": "op", "device": "split", "residency": "host", "bucket": 20, "count": 3,
     "samples": [[1048576, 2e-3], [1048576, 2e-3], [1048576, 2e-3]]}]})";
  CostModel m;
  ASSERT_TRUE(m.load(file));
  EXPECT_TRUE(m.calibrated(kCpu, 4096));
  EXPECT_NEAR(*m.predict(kCpu, 4096), 1e-4, 1e-12);
  const auto beside = m.ratio(CostModel::Key::beside("op", DeviceId::cuda(0), Residency::pinned));
  ASSERT_TRUE(beside.has_value());
  EXPECT_NEAR(beside->value, 1.5, 1e-12);
  EXPECT_EQ(beside->samples, 4u);
  EXPECT_NEAR(*m.predict(CostModel::Key::split("op", Residency::host), 1 << 20), 2e-3, 1e-12);
  // Saved again, it is in the current format and loads to the same.
  ASSERT_TRUE(m.save(file));
  CostModel again;
  ASSERT_TRUE(again.load(file));
  EXPECT_NEAR(again.ratio(CostModel::Key::beside("op", DeviceId::cuda(0), Residency::pinned))->value, 1.5, 1e-12);
  EXPECT_NEAR(*again.predict(CostModel::Key::split("op", Residency::host), 1 << 20), 2e-3, 1e-12);
}

TEST(CostModel, AFileOfAnUnknownVersionIsNotUsedAndSaysSo) {
  const auto file = temp_file("calibration-v9.json");
  std::ofstream(file) << R"({"version": 9, "entries": []})";
  CostModel m;
  auto st = m.load(file);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("unknown version (9)"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().message().find("measured again"), std::string::npos) << st.error().message();
}

// Found by fuzz_calibration: numbers out of an integer's range were converted regardless
// (undefined behaviour) instead of making the file malformed.
TEST(CostModel, NumbersOutOfRangeMakeTheFileMalformed) {
  const auto bad = temp_file("range.json");
  const std::string entry = R"("op": "op", "device": "cpu", "residency": "host", "samples": [[1, 1]])";
  for (const std::string& doc : {std::string(R"({"version": 1e300, "entries": []})"),
                                 R"({"version": 1, "entries": [{)" + entry + R"(, "bucket": 1e300, "count": 1}]})",
                                 R"({"version": 1, "entries": [{)" + entry + R"(, "bucket": 2.5, "count": 1}]})",
                                 R"({"version": 1, "entries": [{)" + entry + R"(, "bucket": 48, "count": 1}]})",
                                 R"({"version": 1, "entries": [{)" + entry + R"(, "bucket": 3, "count": -1e300}]})",
                                 R"({"version": 1, "entries": [{)" + entry + R"(, "bucket": 3, "count": -1}]})"}) {
    std::ofstream(bad) << doc;
    CostModel m;
    auto st = m.load(bad);
    ASSERT_FALSE(st) << doc;
    EXPECT_NE(st.error().message().find("malformed"), std::string::npos) << st.error().message();
  }
}

TEST(CostModel, DefaultFileFollowsXdgCacheHomeAndMachine) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/tmp/hetex-xdg", 1);
  const auto a = default_calibration_file(machine_key({"cpu A"}));
  const auto b = default_calibration_file(machine_key({"cpu A", "gpu B"}));
  EXPECT_EQ(a.parent_path(), std::filesystem::path("/tmp/hetex-xdg/hetex"));
  EXPECT_NE(a, b);
  EXPECT_EQ(a, default_calibration_file(machine_key({"cpu A"})));
  if (old)
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    ::unsetenv("XDG_CACHE_HOME");
}

}  // namespace
}  // namespace hetex
