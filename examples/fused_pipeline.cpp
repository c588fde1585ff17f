// SPDX-License-Identifier: MIT
// Fused pipelines: how much of a day's sensor readings were valid, and what did they add up to?
// Each terminal is one pass over the data, on all cores; with a scheduler, hetex may pick a GPU
// for it (in files compiled by nvcc with __host__ __device__ lambdas).

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "hetex/exec/scheduler.hpp"
#include "hetex/parallel/pipeline.hpp"

int main() {
  std::vector<float> celsius(10'000'000);
  std::mt19937 rng(1);
  std::normal_distribution<float> temperature(21.0f, 4.0f);
  for (auto& t : celsius) t = temperature(rng);
  celsius[1234] = NAN;  // a broken sensor

  auto valid = [](float c) { return !std::isnan(c) && c > -40.0f && c < 60.0f; };
  auto to_kelvin = [](float c) { return c + 273.15f; };

  auto readings = hetex::pipeline(celsius).filter(valid).map(to_kelvin);
  const std::size_t n = readings.count().value();
  const double mean = readings.map([](float k) { return double(k); }).sum().value() / double(n);
  const float hottest = readings.max().value().value();
  const std::size_t hot = readings.filter([](float k) { return k > 303.15f; }).count().value();

  std::printf("%zu valid readings of %zu; mean %.2f K, hottest %.2f K, %zu above 30 C\n", n, celsius.size(), mean,
              hottest, hot);

  // Let the scheduler decide where to run it (the CPU here unless a GPU path exists and wins).
  auto runtime =
      hetex::Runtime::create(hetex::RuntimeOptions{.devices = std::nullopt, .announce_cpu_only = false}).value();
  auto scheduler = hetex::Scheduler::create(runtime, {.calibration_file = std::filesystem::path()}).value();
  const std::size_t again = readings.on(*scheduler).count().value();
  return again == n ? 0 : 1;
}
