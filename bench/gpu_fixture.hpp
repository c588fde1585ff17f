// SPDX-License-Identifier: MIT
#pragma once
// What the GPU benchmarks share: one runtime per process, a skip with the reason when there is
// no GPU, and three streams on the first GPU (the ops' batch calls spread chunks over them).
#include <benchmark/benchmark.h>

#include <vector>

#include "hetex/async/stream.hpp"
#include "hetex/core/runtime.hpp"

namespace hetex_bench {

inline const hetex::Runtime& rt() {
  static hetex::Runtime r = hetex::Runtime::create().value();
  return r;
}

// False, with the benchmark marked skipped and why, when no GPU is usable.
inline bool need_gpu(benchmark::State& st) {
  if (rt().has_gpu()) return true;
  st.SkipWithError(("no GPU: " + rt().gpu_unavailable_reason()).c_str());
  return false;
}

// Three streams on the first GPU; none without a GPU.
inline std::vector<hetex::Stream>& streams() {
  static std::vector<hetex::Stream> s = [] {
    std::vector<hetex::Stream> v;
    if (rt().has_gpu())
      for (int i = 0; i < 3; ++i) v.push_back(hetex::Stream::create(rt().gpus().front()).value());
    return v;
  }();
  return s;
}

}  // namespace hetex_bench
