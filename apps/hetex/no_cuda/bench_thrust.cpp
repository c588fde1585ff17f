// SPDX-License-Identifier: MIT
#include "../bench_thrust.hpp"

namespace hetex::cli::bench {

bool thrust_available() noexcept { return false; }

Status thrust_vector_add(const float*, const float*, float*, std::size_t) {
  return Error(Errc::unavailable, "Thrust needs the CUDA build");
}

Status thrust_map_filter_sum(const float*, std::size_t, float&) {
  return Error(Errc::unavailable, "Thrust needs the CUDA build");
}

}  // namespace hetex::cli::bench
