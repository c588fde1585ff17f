// SPDX-License-Identifier: MIT
#pragma once
// Thrust, the comparator people reach for on the GPU: host vectors into device_vectors, a
// transform, and back. Compiled only with CUDA (bench_thrust.cu); otherwise unavailable.

#include <cstddef>

#include "hetex/core/error.hpp"

namespace hetex::cli::bench {

bool thrust_available() noexcept;
// c[i] = a[i] + b[i] for n floats in host memory, on the current CUDA device.
Status thrust_vector_add(const float* a, const float* b, float* c, std::size_t n);
// sum of x[i]² over those below 0.25, for n floats in host memory: copy in, transform, copy_if,
// reduce (the unfused chain).
Status thrust_map_filter_sum(const float* x, std::size_t n, float& sum);

}  // namespace hetex::cli::bench
