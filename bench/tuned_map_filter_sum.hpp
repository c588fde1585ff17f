// SPDX-License-Identifier: MIT
#pragma once
// The comparator for hetex's fused map -> filter -> sum on the CPU (bench_pipeline and `hetex
// bench`): sum of x[i]² over those below 0.25, as a programmer tuning it by hand writes it with
// tbb::parallel_reduce: eight running sums (no add waits on the previous one; the loop
// vectorizes) and a select, not a branch, which would mispredict on every other element of
// random data.
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <cstddef>

namespace hetex_bench {

inline float tuned_map_filter_sum(const float* x, std::size_t n) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, n, 1u << 14), 0.0f,
      [x](const tbb::blocked_range<std::size_t>& r, float acc) {
        float lane[8] = {};
        std::size_t i = r.begin();
        for (; i + 8 <= r.end(); i += 8)
          for (int k = 0; k < 8; ++k) {
            const float y = x[i + k] * x[i + k];
            lane[k] += y < 0.25f ? y : 0.0f;
          }
        for (; i < r.end(); ++i) {
          const float y = x[i] * x[i];
          acc += y < 0.25f ? y : 0.0f;
        }
        for (float l : lane) acc += l;
        return acc;
      },
      [](float a, float b) { return a + b; });
}

}  // namespace hetex_bench
